"""Checking an imported grid file before it replaces the grids a dispatch centre works from.

Every problem is found and named at once, so a GIS technician can fix a file in one pass: rows
with field problems or unknown parents still take part in the structural checks (see
:mod:`geo.links`). Gaps, overlaps and overhangs count when wider than a distance tolerance
(:mod:`geo.slivers`); what passes is then made to nest exactly (:mod:`geo.snap`).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from geo.crs import CoordSystem
from geo.io import GridFileError, read_grid_file
from geo.model import Tier
from geo.problems import Problem, ProblemKind
from geo.rows import Rows
from geo.snap import nest_exactly
from geo.structure import Structure

__all__ = ["ImportResult", "Problem", "ProblemKind", "import_grids", "validate_grids"]

#: Bounds (min lon, min lat, max lon, max lat) any grid in China lies within.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
#: Slivers narrower than this many metres are reprojection and digitising noise, not problems.
DEFAULT_TOLERANCE_M = 0.5
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


class ToleranceError(ValueError):
    """A tolerance that is no distance: negative, or not a finite number."""

    def __init__(self, tolerance_m: float) -> None:
        super().__init__(f"tolerance must be a distance of 0 m or more, not {tolerance_m!r}")
        self.tolerance_m = tolerance_m


@dataclass
class ImportResult:
    """What importing a file gave: the grids only when there is nothing wrong with them."""

    grids: gpd.GeoDataFrame | None
    problems: list[Problem]
    counts: dict[Tier, int] = field(default_factory=lambda: dict.fromkeys(Tier, 0))

    @property
    def ok(self) -> bool:
        return self.grids is not None and not self.problems


def import_grids(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | None = None,
    coords: CoordSystem = CoordSystem.WGS84,
    fields: Mapping[str, str] | None = None,
    encoding: str | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    nest: bool = True,
) -> ImportResult:
    """Read and validate a grid file; see :func:`geo.io.read_grid_file` for the options.

    With ``nest`` (what an import writes), the grids of a valid file come back nested exactly;
    without it (a check only), as read.
    """
    _check_tolerance(tolerance_m)
    try:
        gdf = read_grid_file(
            path, layer=layer, crs=crs, coords=coords, fields=fields, encoding=encoding
        )
    except GridFileError as exc:
        return ImportResult(grids=None, problems=[Problem(ProblemKind(exc.kind), (), str(exc))])
    problems = validate_grids(gdf, tolerance_m=tolerance_m)
    counts = {tier: int((gdf["tier"] == tier.value).sum()) for tier in Tier}
    if problems:
        return ImportResult(grids=None, problems=problems, counts=counts)
    grids = nest_exactly(gdf, tolerance_m=tolerance_m) if nest else gdf
    return ImportResult(grids=grids, problems=[], counts=counts)


def validate_grids(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    plausible_bounds: tuple[float, float, float, float] = CHINA_BOUNDS,
) -> list[Problem]:
    """Every problem in a canonical frame; overlaps, gaps and overhangs count when some part
    of them is wider than ``tolerance_m``.

    Features with broken geometry are reported once and kept out of the structural checks,
    so one bad polygon does not also show up as its parent's gap or its neighbour's overlap.
    """
    _check_tolerance(tolerance_m)
    rows = Rows.of(gdf)
    problems = _field_problems(rows)
    geometry_problems, good = _geometry_problems(rows, plausible_bounds)
    problems += geometry_problems
    problems += _duplicate_codes(rows)
    problems += _unknown_parents(rows)
    usable = good & np.array([t is not None for t in rows.tiers], dtype=bool)
    if usable.any():
        problems += Structure(rows, good, usable, tolerance_m).problems()
    return problems


def _check_tolerance(tolerance_m: float) -> None:
    if not (isinstance(tolerance_m, int | float) and 0 <= tolerance_m < float("inf")):
        raise ToleranceError(tolerance_m)


def _field_problems(rows: Rows) -> list[Problem]:
    out = []
    for i, label in enumerate(rows.labels):
        missing = []
        if not rows.codes[i]:
            missing.append("field 'code' is empty")
        if not rows.names[i]:
            missing.append("field 'name' is empty")
        if not rows.raw_tiers[i]:
            missing.append("field 'tier' is empty")
        elif rows.tiers[i] is None:
            known = ", ".join(t.value for t in Tier)
            missing.append(f"tier value {rows.raw_tiers[i]!r} is not a known tier ({known})")
        elif rows.tiers[i] is not Tier.TOTAL and not rows.parents[i]:
            missing.append("field 'parent_code' is empty")
        for what in missing:
            out.append(Problem(ProblemKind.MISSING_FIELD, (label,), f"{rows.label(i)}: {what}"))
    return out


def _geometry_problems(
    rows: Rows, bounds: tuple[float, float, float, float]
) -> tuple[list[Problem], NDArray]:
    """Problems with each geometry on its own, and the mask of geometries fit for overlay."""
    geoms = rows.geoms
    good = np.isin(shapely.get_type_id(geoms), _POLYGONAL) & ~shapely.is_empty(geoms)
    good &= shapely.is_valid(geoms) & _within(shapely.bounds(geoms), bounds)
    out: list[Problem] = []
    for i in np.flatnonzero(~good):
        out += _geometry_problem(rows, int(i), bounds)
    return out, good


def _within(box: NDArray, bounds: tuple[float, float, float, float]) -> NDArray:
    box, low, high = np.atleast_2d(box), np.array(bounds[:2]), np.array(bounds[2:])
    return np.all((box[:, :2] >= low) & (box[:, 2:] <= high), axis=1)


def _geometry_problem(rows: Rows, i: int, bounds: tuple) -> list[Problem]:
    geom, codes, label = rows.geoms[i], (rows.labels[i],), rows.label(i)
    if geom is None or geom.is_empty:
        return [Problem(ProblemKind.EMPTY_GEOMETRY, codes, f"{label} has no geometry")]
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        kind = ProblemKind.NOT_POLYGON
        return [Problem(kind, codes, f"{label} is a {geom.geom_type}, not a polygon")]
    valid, inside = geom.is_valid, bool(_within(np.array(geom.bounds), bounds)[0])
    out = []
    if not valid:
        reason = shapely.is_valid_reason(geom)
        out.append(Problem(ProblemKind.INVALID_GEOMETRY, codes, f"{label} is invalid: {reason}"))
    if not inside:
        box = ", ".join(f"{v:.6g}" for v in geom.bounds)
        message = (
            f"{label} has bounds ({box}), outside plausible lon/lat {bounds}: "
            "swapped axes, or metres with no CRS?"
        )
        out.append(Problem(ProblemKind.OUT_OF_BOUNDS, codes, message))
    return out


def _duplicate_codes(rows: Rows) -> list[Problem]:
    where = defaultdict(list)
    for i, code in enumerate(rows.codes):
        where[code].append(f"#{i + 1}")
    kind = ProblemKind.DUPLICATE_CODE
    return [
        Problem(kind, (code,), f"code {code} is used by {len(at)} features ({', '.join(at)})")
        for code, at in where.items()
        if code and len(at) > 1
    ]


def _unknown_parents(rows: Rows) -> list[Problem]:
    tiers_of = defaultdict(set)
    for code, tier in zip(rows.codes, rows.tiers, strict=True):
        if code and tier is not None:
            tiers_of[code].add(tier)
    out = []
    for i, (tier, parent) in enumerate(zip(rows.tiers, rows.parents, strict=True)):
        if tier is None or not parent:
            continue
        wanted = tier.parent  # None only for a total grid
        if wanted is None:
            message = f"{rows.label(i)} names parent {parent}, but total grids have none"
        elif not tiers_of.get(parent):
            message = f"{rows.label(i)} names parent {parent}, which is no grid in the file"
        elif wanted not in tiers_of[parent]:
            found = " and ".join(sorted(t.label_en for t in tiers_of[parent]))
            message = f"{rows.label(i)} names parent {parent}, a {found}, not a {wanted.label_en}"
        else:
            continue
        out.append(Problem(ProblemKind.UNKNOWN_PARENT, (rows.labels[i], parent), message))
    return out
