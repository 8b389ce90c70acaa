"""QR sheets: one readable code per micro-grid, pointing at its report form."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from PIL import Image

from dashboard.cli import main
from dispatch.qr import micro_codes, render_sheet, report_url
from geo.grids import UnknownGridError
from geo.model import Tier


def _a_general(grids) -> str:
    return grids.tier(Tier.GENERAL)["code"].iloc[0]


def test_png_pages_carry_decodable_codes_for_each_micro_grid(demo_grids, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp", reason="pip install zxing-cpp to decode QR codes")
    general = _a_general(demo_grids)
    codes = micro_codes(demo_grids, general)
    paths = render_sheet(demo_grids, general, base_url="http://gd.local:8050",
                         out=tmp_path / "sheet.png")
    assert len(paths) == (len(codes) + 11) // 12
    found = set()
    for path in paths:
        found |= {r.text for r in zxingcpp.read_barcodes(Image.open(path))}
    assert found == {report_url("http://gd.local:8050", c) for c in codes}


def test_pdf_holds_every_page(demo_grids, tmp_path):
    total = demo_grids.tier(Tier.TOTAL)["code"].iloc[0]
    out = tmp_path / "sheet.pdf"
    render_sheet(demo_grids, total, base_url="http://x", out=out)
    pages = out.read_bytes().count(b"/Type /Page\n") or out.read_bytes().count(b"/Type /Page")
    assert pages >= (len(micro_codes(demo_grids, total)) + 11) // 12


def test_micro_code_gives_one_and_bad_code_is_named(demo_grids, tmp_path):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[0]
    assert micro_codes(demo_grids, micro) == [micro]
    with pytest.raises(UnknownGridError):
        micro_codes(demo_grids, "510117999999")
    result = CliRunner().invoke(main, ["qr", "--grid", "nope", "--out", str(tmp_path / "a.png")])
    assert result.exit_code == 2 and "--grid" in result.output


def test_cli_writes_the_sheet(demo_grids, tmp_path):
    out = tmp_path / "micro.png"
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[5]
    result = CliRunner().invoke(main, ["qr", "--grid", micro, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists() and Image.open(out).size == (1240, 1754)
