"""Checking an imported grid file before it replaces the grids a dispatch centre works from.

Every problem is found and named at once, so a GIS technician can fix a file in one pass. Overlay
runs in the file's own lon/lat, where shared edges match exactly; only the resulting pieces are
projected, into a local metric CRS, to measure their areas.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray

from geo.crs import CoordSystem, local_metric_crs, project
from geo.io import GridFileError, read_grid_file, text_value
from geo.model import WGS84, Tier, parse_tier

#: Bounds (min lon, min lat, max lon, max lat) any grid in China lies within.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
#: Edges are densified to this before areas are measured (about 10 m), so slivers stay thin.
_SEGMENT_DEG = 1e-4
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


class ProblemKind(StrEnum):
    """What is wrong; the value is what reports and the import log print."""

    UNREADABLE = "unreadable"
    MISSING_FIELD = "missing-field"
    NOT_POLYGON = "not-polygon"
    EMPTY_GEOMETRY = "empty-geometry"
    INVALID_GEOMETRY = "invalid-geometry"
    OUT_OF_BOUNDS = "out-of-bounds"
    DUPLICATE_CODE = "duplicate-code"
    UNKNOWN_PARENT = "unknown-parent"
    OUTSIDE_PARENT = "outside-parent"
    OVERLAP = "overlap"
    GAP = "gap"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, naming the grids involved (``#n`` is the n-th feature)."""

    kind: ProblemKind
    codes: tuple[str, ...]
    message: str
    area_m2: float | None = None

    def __str__(self) -> str:
        message = " ".join(self.message.split())
        return f"{self.kind}\t{','.join(self.codes)}\t{message}"


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
    tolerance_m2: float = 1.0,
) -> ImportResult:
    """Read and validate a grid file; see :func:`geo.io.read_grid_file` for the options."""
    try:
        gdf = read_grid_file(
            path, layer=layer, crs=crs, coords=coords, fields=fields, encoding=encoding
        )
    except GridFileError as exc:
        return ImportResult(grids=None, problems=[Problem(ProblemKind(exc.kind), (), str(exc))])
    problems = validate_grids(gdf, tolerance_m2=tolerance_m2)
    counts = {tier: int((gdf["tier"] == tier.value).sum()) for tier in Tier}
    return ImportResult(grids=None if problems else gdf, problems=problems, counts=counts)


def validate_grids(
    gdf: gpd.GeoDataFrame,
    *,
    tolerance_m2: float = 1.0,
    plausible_bounds: tuple[float, float, float, float] = CHINA_BOUNDS,
) -> list[Problem]:
    """Every problem in a canonical frame; overlaps, gaps and overhangs count above tolerance.

    Features with broken geometry are reported once and kept out of the structural checks,
    so one bad polygon does not also show up as its parent's gap or its neighbour's overlap.
    """
    rows = _Rows.of(gdf)
    problems = _field_problems(rows)
    geometry_problems, good = _geometry_problems(rows, plausible_bounds)
    problems += geometry_problems
    problems += _duplicate_codes(rows)
    problems += _unknown_parents(rows)
    usable = good & np.array([t is not None for t in rows.tiers], dtype=bool)
    if usable.any():
        problems += _Structure(rows, usable, tolerance_m2).problems()
    return problems


@dataclass(frozen=True)
class _Rows:
    labels: list[str]
    codes: list[str]
    names: list[str]
    raw_tiers: list[str]
    tiers: list[Tier | None]
    parents: list[str]
    geoms: NDArray

    @classmethod
    def of(cls, gdf: gpd.GeoDataFrame) -> _Rows:
        codes = [text_value(v) for v in gdf["code"]]
        raw_tiers = [text_value(v) for v in gdf["tier"]]
        return cls(
            labels=[code or f"#{i + 1}" for i, code in enumerate(codes)],
            codes=codes,
            names=[text_value(v) for v in gdf["name"]],
            raw_tiers=raw_tiers,
            tiers=[parse_tier(v) for v in raw_tiers],
            parents=[text_value(v) for v in gdf["parent_code"]],
            geoms=np.asarray(gdf.geometry.values, dtype=object),
        )

    def label(self, i: int) -> str:
        tier = self.tiers[i]
        return f"{tier.label_en} {self.labels[i]}" if tier else f"feature {self.labels[i]}"


def _field_problems(rows: _Rows) -> list[Problem]:
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
    rows: _Rows, bounds: tuple[float, float, float, float]
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


def _geometry_problem(rows: _Rows, i: int, bounds: tuple) -> list[Problem]:
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


def _duplicate_codes(rows: _Rows) -> list[Problem]:
    where = defaultdict(list)
    for i, code in enumerate(rows.codes):
        where[code].append(f"#{i + 1}")
    kind = ProblemKind.DUPLICATE_CODE
    return [
        Problem(kind, (code,), f"code {code} is used by {len(at)} features ({', '.join(at)})")
        for code, at in where.items()
        if code and len(at) > 1
    ]


def _unknown_parents(rows: _Rows) -> list[Problem]:
    tiers_of = defaultdict(set)
    for code, tier in zip(rows.codes, rows.tiers, strict=True):
        if code and tier is not None:
            tiers_of[code].add(tier)
    out = []
    for i, (tier, parent) in enumerate(zip(rows.tiers, rows.parents, strict=True)):
        if tier is None or not parent:
            continue
        if tier is Tier.TOTAL:
            message = f"{rows.label(i)} names parent {parent}, but total grids have none"
        elif not tiers_of.get(parent):
            message = f"{rows.label(i)} names parent {parent}, which is no grid in the file"
        elif tier.parent not in tiers_of[parent]:
            found = " and ".join(sorted(t.label_en for t in tiers_of[parent]))
            message = (
                f"{rows.label(i)} names parent {parent}, a {found}, not a {tier.parent.label_en}"
            )
        else:
            continue
        out.append(Problem(ProblemKind.UNKNOWN_PARENT, (rows.labels[i], parent), message))
    return out


def _area_text(area: float) -> str:
    return f"{area:,.1f} m²"


class _Structure:
    """The checks that compare polygons: overlaps within a tier, overhangs, gaps and holes."""

    def __init__(self, rows: _Rows, usable: NDArray, tolerance_m2: float) -> None:
        self.rows, self.usable, self.tolerance = rows, usable, tolerance_m2
        minx, miny, maxx, maxy = shapely.total_bounds(rows.geoms[usable])
        lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
        self.metric = local_metric_crs(lon, lat)
        cell = shapely.box(lon, lat, lon + 1e-3, lat + 1e-3)
        self.m2_per_deg2 = project([cell], source=WGS84, target=self.metric)[0].area / 1e-6
        self.tier_of = np.array([t.value if t else "" for t in rows.tiers], dtype=object)
        #: Parent row → its children's rows; codes of parents whose gaps would be spurious.
        self.children, self.incomplete = self._links()

    def problems(self) -> list[Problem]:
        out = self._outside_parents()
        for tier in Tier:
            out += self._overlaps(tier)
        for tier in (Tier.TOTAL, Tier.GENERAL):
            out += self._gaps(tier)
        return out + self._holes()

    def _areas(self, geoms: NDArray) -> NDArray:
        """Areas in m², exact for those that might exceed tolerance, 0 for clearly smaller ones.

        Nearly all pieces are slivers of float noise; a flat m²-per-degree² factor sorts them
        out, and only the rest are densified and projected.
        """
        geoms = np.asarray(geoms, dtype=object)
        areas = np.zeros(len(geoms))
        rough = shapely.area(geoms) * self.m2_per_deg2
        near = rough > self.tolerance / 2
        if near.any():
            metric = project(
                geoms[near], source=WGS84, target=self.metric, max_segment=_SEGMENT_DEG
            )
            areas[near] = shapely.area(metric)
        return areas

    def _links(self) -> tuple[dict[int, list[int]], set[str]]:
        """Each usable parent row's usable children, and the codes of parents missing some."""
        rows = self.rows
        at = defaultdict(list)
        for i, (code, tier) in enumerate(zip(rows.codes, rows.tiers, strict=True)):
            if code and tier is not None:
                at[tier, code].append(i)
        children: dict[int, list[int]] = defaultdict(list)
        incomplete, orphans = set(), []
        for i, (tier, parent) in enumerate(zip(rows.tiers, rows.parents, strict=True)):
            if tier is Tier.TOTAL:
                continue
            found = at.get((tier.parent, parent), []) if tier and parent else []
            if parent and (not self.usable[i] or len(found) > 1):
                incomplete.add(parent)
            elif len(found) == 1 and self.usable[found[0]]:
                children[found[0]].append(i)
            elif self.usable[i]:
                orphans.append(i)
        return children, incomplete | self._enclosing_codes(orphans)

    def _enclosing_codes(self, orphans: list[int]) -> set[str]:
        """Codes of the parents that geometrically hold children not linked to them by code."""
        out = set()
        for tier in (Tier.GENERAL, Tier.MICRO):
            kids = [i for i in orphans if self.rows.tiers[i] is tier]
            parents = np.flatnonzero(self.usable & (self.tier_of == tier.parent.value))
            if kids and len(parents):
                points = shapely.point_on_surface(self.rows.geoms[kids])
                tree = shapely.STRtree(self.rows.geoms[parents])
                out |= {self.rows.codes[parents[j]] for j in tree.query(points, "within")[1]}
        return out

    def _outside_parents(self) -> list[Problem]:
        pairs = [(c, p) for p, kids in self.children.items() for c in kids]
        if not pairs:
            return []
        child, parent = np.array(pairs, dtype=int).T
        geoms, label = self.rows.geoms, self.rows.label
        inside = shapely.contains_properly(geoms[parent], geoms[child])
        child, parent = child[~inside], parent[~inside]
        areas = self._areas(shapely.difference(geoms[child], geoms[parent]))
        return self._report(
            ProblemKind.OUTSIDE_PARENT,
            list(zip(child, parent, strict=True)),
            areas,
            lambda k, area: f"{label(child[k])} extends {area} outside its {label(parent[k])}",
        )

    def _overlaps(self, tier: Tier) -> list[Problem]:
        index = np.flatnonzero(self.usable & (self.tier_of == tier.value))
        geoms, label = self.rows.geoms[index], self.rows.label
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        left, right = left[left < right], right[left < right]
        interiors = shapely.relate_pattern(geoms[left], geoms[right], "T********")
        left, right = index[left[interiors]], index[right[interiors]]
        areas = self._areas(shapely.intersection(self.rows.geoms[left], self.rows.geoms[right]))
        return self._report(
            ProblemKind.OVERLAP,
            list(zip(left, right, strict=True)),
            areas,
            lambda k, area: f"{label(left[k])} and {label(right[k])} overlap by {area}",
        )

    def _gaps(self, tier: Tier) -> list[Problem]:
        """Area of each parent its children leave uncovered."""
        rows, geoms = self.rows, self.rows.geoms
        parents = [
            int(p)
            for p in np.flatnonzero(self.usable & (self.tier_of == tier.value))
            if rows.codes[p] and rows.codes[p] not in self.incomplete
        ]
        covered = [shapely.union_all(geoms[self.children.get(p, [])]) for p in parents]
        areas = self._areas(shapely.difference(geoms[parents], covered))
        return self._report(
            ProblemKind.GAP,
            [(p,) for p in parents],
            areas,
            lambda k, area: (
                f"{area} of {rows.label(parents[k])} is in none of its {tier.child.label_en}s"
            ),
        )

    def _holes(self) -> list[Problem]:
        """Holes inside the union of all total grids, which no parent's gap check can see.

        Broken total grids are already reported; their envelopes fill the holes they leave.
        """
        is_total = self.tier_of == Tier.TOTAL.value
        totals = np.flatnonzero(self.usable & is_total)
        if len(totals) == 0:
            return []
        broken = shapely.envelope(self.rows.geoms[~self.usable & is_total])
        union = shapely.union_all([*self.rows.geoms[totals], *broken])
        rings = [r for part in shapely.get_parts(union) for r in getattr(part, "interiors", [])]
        holes = shapely.polygons(np.array(rings, dtype=object).reshape(-1))
        tree = shapely.STRtree(self.rows.geoms[totals])
        around = [tuple(sorted(totals[tree.query(h, predicate="intersects")])) for h in holes]
        spots = shapely.get_coordinates(shapely.point_on_surface(holes))
        return self._report(
            ProblemKind.GAP,
            around,
            self._areas(holes),
            lambda k, area: (
                f"hole of {area} at ({spots[k][0]:.6f}, {spots[k][1]:.6f}) is in no "
                f"total grid (around {', '.join(self.rows.labels[i] for i in around[k])})"
            ),
        )

    def _report(
        self,
        kind: ProblemKind,
        groups: list[tuple[int, ...]],
        areas: NDArray,
        describe: Callable[[int, str], str],
    ) -> list[Problem]:
        """A problem for each group of rows whose piece (the k-th) is larger than tolerance."""
        labels = self.rows.labels
        return [
            Problem(kind, tuple(labels[i] for i in groups[k]), describe(k, _area_text(a)), float(a))
            for k, a in enumerate(areas)
            if a > self.tolerance
        ]
