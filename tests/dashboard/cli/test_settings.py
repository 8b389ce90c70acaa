"""Every command reads the server's settings, and says what is wrong in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from dashboard.cli import main
from geo.catalog import demo_path
from geo.demo import DemoSpec
from geo.io import write_grid_file
from geo.locate import Locator
from geo.model import Tier
from tests.geo.factories import small_grid

PUBLIC = "https://gd.example.cn"
INSIDE_SMALL = (103.9025, 30.8025)  # in the small test grid's first micro-grid


@pytest.fixture
def site_file(tmp_path) -> Path:
    return write_grid_file(small_grid(), tmp_path / "site.gpkg")


def _micro_at(frame, lon: float, lat: float) -> str:
    import shapely

    micro = frame[frame["tier"] == Tier.MICRO.value]
    hit = micro[micro.geometry.contains(shapely.Point(lon, lat))]
    assert len(hit) == 1
    return hit["code"].iloc[0]


def test_locate_uses_the_sites_grid_file_from_the_environment(site_file, demo_grids):
    expected = _micro_at(small_grid(), *INSIDE_SMALL)
    demo_answer = Locator(demo_grids).locate(*INSIDE_SMALL).as_dict()["micro"]
    assert demo_answer != expected, "the point must tell the two grid sets apart"
    result = CliRunner().invoke(main, ["grids", "locate", *map(str, INSIDE_SMALL)],
                                env={"GRID_DISPATCH_GRIDS_FILE": str(site_file)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["micro"] == expected


def test_locate_uses_the_demo_seed_from_the_environment(tmp_path):
    cache = tmp_path / "cache"
    result = CliRunner().invoke(main, ["grids", "locate", "103.893", "30.806"],
                                env={"GRID_DISPATCH_CACHE_DIR": str(cache),
                                     "GRID_DISPATCH_DEMO_SEED": "7"})
    assert result.exit_code == 0, result.output
    assert demo_path(cache, DemoSpec(seed=7)).exists()
    assert not demo_path(cache, DemoSpec()).exists()


def test_qr_prints_the_sites_grids_at_the_public_address(site_file, demo_grids, tmp_path,
                                                        cjk_font):
    grid = small_grid()
    total = grid[grid["tier"] == "total"]["code"].iloc[0]
    micros = set(grid[grid["code"].str.startswith(total[:12]) & (grid["tier"] == "micro")]
                 ["code"])
    demo_micros = set(demo_grids.tier(Tier.MICRO)["code"])
    assert not micros <= demo_micros or len(micros) < 5, "the file must differ from the demo"
    out = tmp_path / "sheet.png"
    result = CliRunner().invoke(main, ["qr", "--grid", total, "--out", str(out)],
                                env={"GRID_DISPATCH_GRIDS_FILE": str(site_file),
                                     "GRID_DISPATCH_PUBLIC_URL": PUBLIC})
    assert result.exit_code == 0, result.output
    found = {r.text for r in zxingcpp.read_barcodes(Image.open(out))}
    assert found == {f"{PUBLIC}/report?grid={m}" for m in micros}


@pytest.mark.parametrize("base", ["http://127.0.0.1:8050", "http://localhost:8050/",
                                  "http://0.0.0.0:8050", "http://[::1]:8050"])
def test_qr_refuses_a_loopback_address_unless_it_is_a_test(base, demo_grids, tmp_path,
                                                          cjk_font):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[0]
    out = tmp_path / "one.png"
    refused = CliRunner().invoke(main, ["qr", "--grid", micro, "--out", str(out),
                                        "--base-url", base])
    assert refused.exit_code == 2 and "--test" in refused.output and not out.exists()
    allowed = CliRunner().invoke(main, ["qr", "--grid", micro, "--out", str(out),
                                        "--base-url", base, "--test"])
    assert allowed.exit_code == 0, allowed.output


def test_qr_without_a_public_address_says_which_setting_to_give(demo_grids, tmp_path):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[0]
    result = CliRunner().invoke(main, ["qr", "--grid", micro, "--out",
                                       str(tmp_path / "x.png")],
                                env={"GRID_DISPATCH_PUBLIC_URL": None})
    assert result.exit_code == 2 and "GRID_DISPATCH_PUBLIC_URL" in result.output


def test_an_unreachable_redis_is_one_line_not_a_traceback():
    result = CliRunner().invoke(main, ["tokens", "create", "--role", "operator", "--name",
                                       "x"], env={"REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.exit_code == 1
    assert "Redis unreachable" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(("variable", "value"), [("GRID_DISPATCH_PORT", "eighty"),
                                                  ("GRID_DISPATCH_TILES", "google"),
                                                  ("GRID_DISPATCH_PUBLIC_URL", "gd.example")])
def test_an_invalid_setting_names_its_variable(variable, value):
    result = CliRunner().invoke(main, ["grids", "locate", "103.9", "30.8"],
                                env={variable: value})
    assert result.exit_code == 1
    assert variable in result.output and repr(value) in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bench_locate_refuses_zero_points():
    result = CliRunner().invoke(main, ["bench", "locate", "--points", "0"])
    assert result.exit_code == 2 and "--points" in result.output
    assert "NaN" not in result.output


def test_bench_ingest_help_names_only_options_it_has():
    text = CliRunner().invoke(main, ["bench", "ingest", "--help"]).output
    assert "--server" not in text
