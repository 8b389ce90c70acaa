"""Each way a grid file can be wrong is found, named by code, and stops the import."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from geo.model import Tier
from geo.validate import (
    ImportResult,
    Problem,
    ProblemKind,
    ToleranceError,
    import_grids,
    validate_grids,
)
from tests.geo import factories as f

TOTAL_W, TOTAL_E = "51011700100100", "51011700100200"
GENERAL_NW, GENERAL_SW = "51011700100101", "51011700100102"
MICRO_NW1, MICRO_NW2 = "51011700100101001", "51011700100101002"
BOWTIE = shapely.Polygon([(103.90, 30.80), (103.905, 30.805), (103.905, 30.80), (103.90, 30.805)])
AREA = re.compile(r"\d[\d,]*\.\d m²")


def import_frame(tmp_path: Path, grid: gpd.GeoDataFrame, **options) -> ImportResult:
    path = tmp_path / "grids.geojson"
    grid.to_file(path, engine="pyogrio")
    return import_grids(path, **options)


def kinds(result: ImportResult) -> set[ProblemKind]:
    return {p.kind for p in result.problems}


def problem(result: ImportResult, kind: ProblemKind) -> Problem:
    matching = [p for p in result.problems if p.kind is kind]
    assert matching, f"no {kind} in {[str(p) for p in result.problems]}"
    return matching[0]


def row_label(grid: gpd.GeoDataFrame, code: str) -> str:
    return f"#{grid.index.get_loc(grid.index[grid['code'] == code][0]) + 1}"


def test_valid_grid_has_no_problems(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.small_grid())
    assert result.problems == []
    assert result.ok and result.grids is not None
    assert result.counts == {Tier.TOTAL: 2, Tier.GENERAL: 4, Tier.MICRO: 10}


def test_large_voronoi_grid_is_valid() -> None:
    grid = f.voronoi_grids(12, 50, 400, seed=3)
    assert validate_grids(grid) == []


BREAKS: dict[str, tuple[Callable, ProblemKind, tuple[str, ...]]] = {
    "empty-name": (
        lambda g: f.with_values(g, MICRO_NW1, name=""),
        ProblemKind.MISSING_FIELD,
        (MICRO_NW1,),
    ),
    "unknown-tier": (
        lambda g: f.with_values(g, MICRO_NW1, tier="楼栋"),
        ProblemKind.MISSING_FIELD,
        (MICRO_NW1,),
    ),
    "empty-parent": (
        lambda g: f.with_values(g, GENERAL_NW, parent_code=""),
        ProblemKind.MISSING_FIELD,
        (GENERAL_NW,),
    ),
    "empty-geometry": (
        lambda g: f.with_geometry(g, MICRO_NW1, None),
        ProblemKind.EMPTY_GEOMETRY,
        (MICRO_NW1,),
    ),
    "line": (
        lambda g: f.with_geometry(
            g, MICRO_NW1, shapely.LineString([(103.9, 30.8), (103.901, 30.8)])
        ),
        ProblemKind.NOT_POLYGON,
        (MICRO_NW1,),
    ),
    "point": (
        lambda g: f.with_geometry(g, GENERAL_SW, shapely.Point(103.9, 30.8)),
        ProblemKind.NOT_POLYGON,
        (GENERAL_SW,),
    ),
    "bowtie": (
        lambda g: f.with_geometry(g, MICRO_NW1, BOWTIE),
        ProblemKind.INVALID_GEOMETRY,
        (MICRO_NW1,),
    ),
    "swapped-axes": (
        lambda g: f.with_geometry(
            g, MICRO_NW1, shapely.transform(f.geometry_of(g, MICRO_NW1), lambda xy: xy[:, ::-1])
        ),
        ProblemKind.OUT_OF_BOUNDS,
        (MICRO_NW1,),
    ),
    "duplicate-code": (
        lambda g: f.with_values(g, MICRO_NW2, code=MICRO_NW1),
        ProblemKind.DUPLICATE_CODE,
        (MICRO_NW1,),
    ),
    "no-such-parent": (
        lambda g: f.with_values(g, MICRO_NW1, parent_code="51011700100199"),
        ProblemKind.UNKNOWN_PARENT,
        (MICRO_NW1, "51011700100199"),
    ),
    "parent-of-wrong-tier": (
        lambda g: f.with_values(g, MICRO_NW1, parent_code=TOTAL_W),
        ProblemKind.UNKNOWN_PARENT,
        (MICRO_NW1, TOTAL_W),
    ),
    "total-with-parent": (
        lambda g: f.with_values(g, TOTAL_E, parent_code=TOTAL_W),
        ProblemKind.UNKNOWN_PARENT,
        (TOTAL_E, TOTAL_W),
    ),
    "outside-parent": (
        lambda g: f.moved_edges(g, MICRO_NW1, west_m=5),
        ProblemKind.OUTSIDE_PARENT,
        (MICRO_NW1, GENERAL_NW),
    ),
    "overlap": (
        lambda g: f.moved_edges(g, MICRO_NW1, east_m=5),
        ProblemKind.OVERLAP,
        (MICRO_NW1, MICRO_NW2),
    ),
    "gap-in-parent": (
        lambda g: f.moved_edges(g, MICRO_NW1, east_m=-5),
        ProblemKind.GAP,
        (GENERAL_NW,),
    ),
    "parent-without-children": (
        lambda g: g[g["parent_code"] != GENERAL_NW],
        ProblemKind.GAP,
        (GENERAL_NW,),
    ),
    "hole-among-totals": (
        lambda g: f.with_hole(g, TOTAL_W, side_m=20),
        ProblemKind.GAP,
        (TOTAL_W,),
    ),
}


@pytest.mark.parametrize("name", BREAKS)
def test_each_problem_is_found_and_named(tmp_path: Path, name: str) -> None:
    """The problem is reported, by the right codes, and nothing else is reported with it."""
    breaker, kind, codes = BREAKS[name]
    result = import_frame(tmp_path, breaker(f.small_grid()))
    assert result.grids is None and not result.ok
    found = [p for p in result.problems if p.kind is kind]
    assert found and len(found) == len(result.problems), [str(p) for p in result.problems]
    assert any(set(codes) <= set(p.codes) for p in found), [str(p) for p in found]
    for p in found:
        assert all(code in str(p) for code in p.codes)


def test_feature_without_code_is_named_by_row(tmp_path: Path) -> None:
    grid = f.small_grid()
    label = row_label(grid, MICRO_NW1)
    result = import_frame(tmp_path, f.with_values(grid, MICRO_NW1, code=""))
    missing = problem(result, ProblemKind.MISSING_FIELD)
    assert missing.codes == (label,) and "code" in missing.message


def test_unknown_tier_value_is_quoted(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.with_values(f.small_grid(), MICRO_NW1, tier="楼栋"))
    assert "'楼栋'" in problem(result, ProblemKind.MISSING_FIELD).message


def test_invalid_geometry_says_why(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.with_geometry(f.small_grid(), MICRO_NW1, BOWTIE))
    assert "Self-intersection" in problem(result, ProblemKind.INVALID_GEOMETRY).message


def test_hole_reports_its_area_and_width(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.with_hole(f.small_grid(), TOTAL_W, side_m=20))
    assert [p.kind for p in result.problems] == [ProblemKind.GAP]
    assert result.problems[0].area_m2 == pytest.approx(400, rel=0.02)
    assert result.problems[0].width_m == pytest.approx(20, abs=0.1)
    assert "400." in result.problems[0].message and "up to 20.0 m wide" in str(result.problems[0])


def test_broken_geometry_causes_no_cascade(tmp_path: Path) -> None:
    """A broken child is not also its parent's gap, nor a broken total a hole."""
    grid = f.with_geometry(f.small_grid(), MICRO_NW1, BOWTIE)
    grid = f.with_geometry(grid, TOTAL_E, shapely.Point(103.915, 30.805))
    grid = f.with_geometry(grid, GENERAL_SW, None)
    result = import_frame(tmp_path, grid)
    assert sorted((p.kind, p.codes) for p in result.problems) == sorted(
        [
            (ProblemKind.INVALID_GEOMETRY, (MICRO_NW1,)),
            (ProblemKind.NOT_POLYGON, (TOTAL_E,)),
            (ProblemKind.EMPTY_GEOMETRY, (GENERAL_SW,)),
        ]
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    grid = f.with_values(f.small_grid(), MICRO_NW2, name="")
    grid = f.with_values(grid, "51011700100202002", parent_code="51011700100299")
    grid = f.moved_edges(grid, "51011700100201001", east_m=3)
    grid = f.with_hole(grid, TOTAL_E, side_m=30)
    grid = f.with_geometry(grid, "51011700100102002", BOWTIE)
    result = import_frame(tmp_path, grid)
    assert kinds(result) == {
        ProblemKind.MISSING_FIELD,
        ProblemKind.UNKNOWN_PARENT,
        ProblemKind.OVERLAP,
        ProblemKind.GAP,
        ProblemKind.INVALID_GEOMETRY,
    }
    assert result.grids is None


@pytest.mark.parametrize("kind", [ProblemKind.OVERLAP, ProblemKind.GAP])
def test_slivers_narrower_than_tolerance_are_ignored(tmp_path: Path, kind: ProblemKind) -> None:
    """0.4 m along a 555 m edge is 222 m², yet no wider than a digitiser's slip."""
    sign = 1 if kind is ProblemKind.OVERLAP else -1
    result = import_frame(tmp_path, f.moved_edges(f.small_grid(), MICRO_NW1, east_m=sign * 0.4))
    assert result.problems == [] and result.ok


@pytest.mark.parametrize("kind", [ProblemKind.OVERLAP, ProblemKind.GAP])
def test_slivers_wider_than_tolerance_are_reported_with_area_and_width(
    tmp_path: Path, kind: ProblemKind
) -> None:
    sign = 1 if kind is ProblemKind.OVERLAP else -1
    grid = f.small_grid()
    result = import_frame(tmp_path, f.moved_edges(grid, MICRO_NW1, east_m=sign * 3))
    assert [p.kind for p in result.problems] == [kind]
    found = result.problems[0]
    assert found.area_m2 == pytest.approx(3 * f.height_m(grid, MICRO_NW1), rel=0.02)
    assert found.width_m == pytest.approx(3.0, abs=0.05)
    assert re.search(r"\b1,6\d\d\.\d m², up to 3\.0 m wide", found.message), found.message


def test_tolerance_is_configurable(tmp_path: Path) -> None:
    grid = f.moved_edges(f.small_grid(), MICRO_NW1, east_m=3)
    assert import_frame(tmp_path, grid, tolerance_m=5).ok
    assert not import_frame(tmp_path, grid, tolerance_m=2).ok


@pytest.mark.parametrize("tolerance", [-0.5, float("nan"), float("inf")])
def test_tolerance_must_be_a_distance(tolerance: float) -> None:
    with pytest.raises(ToleranceError) as caught:
        validate_grids(f.small_grid(), tolerance_m=tolerance)
    assert caught.value.tolerance_m is tolerance


def test_unknown_parent_does_not_hide_a_gap(tmp_path: Path) -> None:
    """A child with a wrong parent code still covers its ground; the real gap beside it shows."""
    grid = f.with_values(f.small_grid(), MICRO_NW2, parent_code="51011700100199")
    grid = f.moved_edges(grid, MICRO_NW1, east_m=-4)
    result = import_frame(tmp_path, grid)
    assert {(p.kind, p.codes) for p in result.problems} == {
        (ProblemKind.UNKNOWN_PARENT, (MICRO_NW2, "51011700100199")),
        (ProblemKind.GAP, (GENERAL_NW,)),
    }
    assert problem(result, ProblemKind.GAP).width_m == pytest.approx(4.0, abs=0.05)


@pytest.mark.parametrize(
    "field_problem",
    [
        lambda g: f.with_values(g, MICRO_NW2, tier="楼栋"),
        lambda g: f.with_values(g, MICRO_NW2, parent_code=""),
        lambda g: f.with_values(g, MICRO_NW2, parent_code=TOTAL_W),
        lambda g: f.with_values(g, GENERAL_NW, code=""),
        lambda g: f.with_values(g, GENERAL_SW, code=GENERAL_NW),
    ],
    ids=[
        "unknown-tier",
        "empty-parent",
        "parent-of-wrong-tier",
        "parent-without-code",
        "duplicate-parent-code",
    ],
)
def test_field_problems_do_not_hide_a_gap(tmp_path: Path, field_problem: Callable) -> None:
    grid = field_problem(f.moved_edges(f.small_grid(), MICRO_NW1, east_m=-4))
    result = import_frame(tmp_path, grid)
    gaps = [p for p in result.problems if p.kind is ProblemKind.GAP]
    assert len(gaps) == 1 and gaps[0].width_m == pytest.approx(4.0, abs=0.05), [
        str(p) for p in result.problems
    ]
    assert {p.kind for p in result.problems} - {ProblemKind.GAP}


def test_problem_prints_as_one_tab_separated_line(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.moved_edges(f.small_grid(), MICRO_NW1, east_m=5))
    line = str(problem(result, ProblemKind.OVERLAP))
    kind, codes, message = line.split("\t")
    assert "\n" not in line
    assert kind == "overlap" and codes == f"{MICRO_NW1},{MICRO_NW2}"
    assert AREA.search(message) and "," in AREA.search(message).group()


def test_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    result = import_grids(tmp_path / "nothing-here.gpkg")
    assert result.grids is None and not result.ok
    assert [p.kind for p in result.problems] == [ProblemKind.UNREADABLE]
    assert "nothing-here.gpkg" in result.problems[0].message


def test_missing_field_file_is_one_problem(tmp_path: Path) -> None:
    result = import_frame(tmp_path, f.small_grid().drop(columns=["tier"]))
    assert result.grids is None
    assert [p.kind for p in result.problems] == [ProblemKind.MISSING_FIELD]
    assert "tier" in result.problems[0].message


def test_metres_without_crs_are_out_of_bounds(tmp_path: Path) -> None:
    metres = f.small_grid().to_crs("EPSG:4544")
    path = tmp_path / "metres.geojson"
    path.write_text(metres.set_crs(None, allow_override=True).to_json(), encoding="utf-8")
    result = import_grids(path)
    out = [p for p in result.problems if p.kind is ProblemKind.OUT_OF_BOUNDS]
    assert len(out) == len(metres) and result.grids is None
