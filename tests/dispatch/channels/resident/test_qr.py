"""QR sheets: one readable code per micro-grid, each opening that micro-grid's report form."""

from __future__ import annotations

import re

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from dashboard.cli.qr import qr
from dispatch.channels.resident import fonts as qr_fonts
from dispatch.channels.resident.qr import (
    PAGE,
    PER_PAGE,
    BaseUrlError,
    SheetFormatError,
    micro_grids_in,
    qr_image,
    qr_modules,
    render_sheet,
    report_url,
)
from geo.grids import UnknownGridError
from geo.model import Tier

BASE = "http://gd.example:8050"


def _biggest_general(grids) -> str:
    """A general grid with more micro-grids than fit on one page."""
    sizes = grids.tier(Tier.MICRO)["parent_code"].value_counts()
    code = sizes.index[0]
    assert sizes.iloc[0] > PER_PAGE
    return code


def _decoded(path) -> set[str]:
    return {r.text for r in zxingcpp.read_barcodes(Image.open(path))}


def test_png_pages_carry_one_readable_code_per_micro_grid(demo_grids, tmp_path, cjk_font):
    general = _biggest_general(demo_grids)
    micro = micro_grids_in(demo_grids, general)
    paths = render_sheet(demo_grids, general, base_url=BASE, out=tmp_path / "sheet.png")
    assert [p.name for p in paths] == [f"sheet-{n}.png" for n in range(1, len(paths) + 1)]
    assert len(paths) == -(-len(micro) // PER_PAGE)
    found = [_decoded(p) for p in paths]
    assert len(found[0]) == PER_PAGE
    assert set().union(*found) == {f"{BASE}/report?grid={m.code}" for m in micro}
    assert all(Image.open(p).size == PAGE for p in paths)


def test_a_micro_code_gives_one_png_named_as_asked(demo_grids, tmp_path, cjk_font):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[7]
    out = tmp_path / "one.png"
    assert render_sheet(demo_grids, micro, base_url=BASE + "/", out=out) == [out]
    assert _decoded(out) == {f"{BASE}/report?grid={micro}"}


def test_pdf_holds_every_page_of_a_total_grid_as_lossless_a4(demo_grids, tmp_path, cjk_font):
    total = demo_grids.tier(Tier.TOTAL)["code"].iloc[0]
    out = tmp_path / "sheet.pdf"
    assert render_sheet(demo_grids, total, base_url=BASE, out=out) == [out]
    body = out.read_bytes()
    pages = len(micro_grids_in(demo_grids, total))
    assert body.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", body)) == -(-pages // PER_PAGE)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", body)
    assert boxes and all(abs(float(w) - 595.3) < 1 and abs(float(h) - 841.9) < 1
                         for w, h in boxes)
    assert b"CCITTFaxDecode" in body and b"DCTDecode" not in body


def test_codes_encode_the_report_url_module_for_module():
    url = report_url(BASE, "51011700100101001")
    matrix = qr_modules(url)
    image = qr_image(url, max_px=600)
    box = image.width // len(matrix)
    sampled = [[image.getpixel((x * box + box // 2, y * box + box // 2)) < 128
                for x in range(len(matrix))] for y in range(len(matrix))]
    assert sampled == matrix


def test_micro_grids_follow_parent_links_for_each_tier(demo_grids):
    general = demo_grids.tier(Tier.GENERAL).iloc[0]
    children = micro_grids_in(demo_grids, general["code"])
    assert children and all(demo_grids.chain(m.code)[1].code == general["code"]
                            for m in children)
    total = micro_grids_in(demo_grids, general["parent_code"])
    assert set(children) < set(total)
    assert micro_grids_in(demo_grids, children[0].code) == [children[0]]


def test_bad_code_extension_or_url_is_named(demo_grids, tmp_path):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[0]
    with pytest.raises(UnknownGridError):
        render_sheet(demo_grids, "510117999999", base_url=BASE, out=tmp_path / "a.png")
    with pytest.raises(SheetFormatError) as info:
        render_sheet(demo_grids, micro, base_url=BASE, out=tmp_path / "a.jpg")
    assert info.value.out.name == "a.jpg"
    with pytest.raises(BaseUrlError) as info:
        render_sheet(demo_grids, micro, base_url="gd.example", out=tmp_path / "a.png")
    assert info.value.base_url == "gd.example"
    assert not list(tmp_path.iterdir())


def test_missing_cjk_font_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(qr_fonts.shutil, "which", lambda name: None)
    monkeypatch.setattr(qr_fonts, "_KNOWN", {False: (("/nonexistent/a.ttc", 2),),
                                             True: (("/nonexistent/b.ttc", 2),)})
    with pytest.raises(qr_fonts.FontMissingError, match="apt-get install -y fonts-noto-cjk"):
        qr_fonts.find_font(bold=False)


def test_fonts_are_the_simplified_chinese_face(cjk_font):
    face = qr_fonts.load_fonts().get(40)
    assert face.getname()[0] == "Noto Sans CJK SC"


def test_cli_writes_the_sheet_and_names_bad_options(demo_grids, tmp_path, cjk_font):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[5]
    out = tmp_path / "micro.png"
    env = {"GRID_DISPATCH_PUBLIC_URL": BASE}
    result = CliRunner().invoke(qr, ["--grid", micro, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    assert _decoded(out) == {f"{BASE}/report?grid={micro}"}
    for args, hint in ((["--grid", "nope"], "--grid"),
                       (["--grid", micro, "--base-url", "nowhere"], "--base-url")):
        result = CliRunner().invoke(qr, [*args, "--out", str(tmp_path / "x.png")], env=env)
        assert result.exit_code == 2 and hint in result.output
    result = CliRunner().invoke(qr, ["--grid", micro, "--out", str(tmp_path / "x.svg")])
    assert result.exit_code == 2 and "--out" in result.output
