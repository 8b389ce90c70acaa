"""``grid-dispatch grids``: every problem in one run, and one line of words for every mistake."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner, Result

from dashboard.cli import main
from tests.geo import factories as f

GENERAL_NW = "51011700100101"
MICRO_NW1, MICRO_NW2 = "51011700100101001", "51011700100101002"
NO_SUCH_GENERAL = "51011700100199"


def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def assert_one_line_error(result: Result, *words: str) -> None:
    """Exit 1, no traceback, and a single line on stderr saying all of ``words``."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def raw_export(tmp_path: Path) -> Path:
    """A site's GeoJSON export that never went through ``grids import``."""
    path = tmp_path / "raw_export.geojson"
    f.small_grid().to_file(path, engine="pyogrio")
    return path


def test_unknown_parent_and_gap_are_printed_in_one_run(tmp_path: Path) -> None:
    grid = f.with_values(f.small_grid(), MICRO_NW2, parent_code=NO_SUCH_GENERAL)
    grid = f.moved_edges(grid, MICRO_NW1, east_m=-4)
    path = tmp_path / "grids.geojson"
    grid.to_file(path, engine="pyogrio")
    result = run("grids", "validate", path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["unknown-parent", f"{MICRO_NW2},{NO_SUCH_GENERAL}"],
        ["gap", GENERAL_NW],
    ]
    assert "up to 4.0 m wide" in lines[1]
    assert "2 problem(s)" in result.stderr


def test_tolerance_is_a_distance_in_metres(tmp_path: Path) -> None:
    path = tmp_path / "grids.geojson"
    f.moved_edges(f.small_grid(), MICRO_NW1, east_m=-3).to_file(path, engine="pyogrio")
    assert run("grids", "validate", path).exit_code == 1
    result = run("grids", "validate", path, "--tolerance", "3.5")
    assert result.exit_code == 0 and json.loads(result.stdout)["ok"] is True
    result = run("grids", "validate", path, "--tolerance", "-1")
    assert result.exit_code == 2 and "--tolerance" in result.output


def test_locate_with_a_raw_export_says_to_import_it_first(raw_export: Path) -> None:
    result = run("grids", "locate", "103.905", "30.805", "--grids", raw_export)
    assert_one_line_error(
        result, str(raw_export), "not a canonical grid file", "no layer 'grids'",
        "grid-dispatch grids import", "--out OUT.gpkg",
    )  # fmt: skip


def test_raw_export_as_the_grids_file_setting(raw_export: Path) -> None:
    env = {"GRID_DISPATCH_GRIDS_FILE": str(raw_export)}
    result = run("grids", "locate", "103.9", "30.8", env=env)
    assert_one_line_error(result, "not a canonical grid file", "grid-dispatch grids import")


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda g: g.drop(columns=["tier"]), "no field(s) tier"),
        (lambda g: g.to_crs("EPSG:4544"), "not WGS-84"),
        (
            lambda g: g.assign(tier=g["tier"].map({"total": "总网格"}).fillna(g["tier"])),
            "tier values '总网格'",
        ),
    ],
    ids=["missing-field", "projected", "chinese-tiers"],
)
def test_geopackage_of_another_layout_is_not_canonical(tmp_path: Path, change, says) -> None:
    path = tmp_path / "grids.gpkg"
    frame: gpd.GeoDataFrame = change(f.small_grid())
    frame.to_file(path, layer="grids", engine="pyogrio")
    result = run("grids", "locate", "103.905", "30.805", "--grids", path)
    assert_one_line_error(result, "not a canonical grid file", says, "grids import")


def test_unknown_encoding_is_a_usage_error(raw_export: Path) -> None:
    result = run("grids", "validate", raw_export, "--encoding", "nope")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "--encoding" in result.stderr and "'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_several_layers_without_layer_option_lists_them(tmp_path: Path) -> None:
    path = tmp_path / "survey.gpkg"
    f.small_grid().to_file(path, layer="streets", engine="pyogrio")
    f.small_grid().to_file(path, layer="网格", engine="pyogrio")
    result = run("grids", "validate", path)
    assert result.exit_code == 1
    assert "--layer NAME" in result.stdout and "streets, 网格" in result.stdout
    assert run("grids", "validate", path, "--layer", "网格").exit_code == 0
