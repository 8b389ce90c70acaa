"""Grids as a survey office exports them: drawn in metres, written in a projected or CGCS2000 CRS.

Two 10 km total grids with straight edges (corners only) are cut into 5 km general grids and
those into 1,667 m micro-grids. Every grid carries its own extra vertices along its edges, at
its own random spacing, each a sub-millimetre to centimetre off the line as a digitiser leaves
them, so no two neighbours share their edge vertices. Once the lon/lat of a parent's long chord
and of its children's many vertices are computed, the children stick out of their parents and
into each other by slivers far narrower than any tolerance, as in a real export.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import shapely.affinity

from geo.model import WGS84, Tier

#: CGCS2000 / 3-degree Gauss-Kruger CM 105E, the projected CRS Chengdu surveys use.
GAUSS_KRUGER = "EPSG:4544"
#: CGCS2000 geographic lon/lat.
CGCS2000 = "EPSG:4490"
#: WGS 84 / UTM zone 48N.
UTM_48N = "EPSG:32648"
#: South-west corner of the grid, in Pidu.
ORIGIN_LONLAT = (103.85, 30.75)
TOTAL_M = 10_000.0
GENERALS_PER_SIDE, MICROS_PER_SIDE = 2, 3
#: Geographic files are written from the Gauss-Kruger drawing with edges densified to this
#: first, as GIS projection tools do, so their edges follow the curve to about a centimetre.
EXPORT_STEP_M = 1_000.0
STREET = "510117001"


@dataclass(frozen=True)
class Drawing:
    """A grid drawn in ``design`` metres, and the offset of its south-west corner there."""

    frame: gpd.GeoDataFrame
    design: str
    x0: float
    y0: float

    def exported(self, crs: str) -> gpd.GeoDataFrame:
        """The grid as written in ``crs``: vertex by vertex, as export tools write it."""
        if pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_user_input(self.design)):
            return self.frame.copy()
        geoms = self.frame.geometry.values
        if pyproj.CRS.from_user_input(crs).is_geographic:
            geoms = shapely.segmentize(geoms, EXPORT_STEP_M)
        to_file = pyproj.Transformer.from_crs(self.design, crs, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_file.transform(*xy.T)))
        return gpd.GeoDataFrame(self.frame.drop(columns="geometry"), geometry=list(geoms), crs=crs)

    def to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Design-CRS offsets from the south-west corner as lon/lat, for sampling points."""
        t = pyproj.Transformer.from_crs(self.design, WGS84, always_xy=True)
        return t.transform(self.x0 + np.asarray(x), self.y0 + np.asarray(y))


def drawing(
    crs: str,
    *,
    seed: int = 0,
    offset_m: float = 0.01,
    edits: dict[str, shapely.Geometry] | None = None,
) -> Drawing:
    """The grid drawn in ``crs`` if projected, else in Gauss-Kruger to be exported to ``crs``.

    Extra vertices are up to ``offset_m`` (down to a hundredth of it) off their edge; ``edits``
    replaces the drawn geometry of some codes, given in metres from the corner.
    """
    design = crs if pyproj.CRS.from_user_input(crs).is_projected else GAUSS_KRUGER
    to_design = pyproj.Transformer.from_crs(WGS84, design, always_xy=True)
    x0, y0 = to_design.transform(*ORIGIN_LONLAT)
    rng = np.random.default_rng(seed)
    rows = [
        row
        if row["tier"] == Tier.TOTAL
        else {**row, "geometry": _noisy(row["geometry"], rng, offset_m)}
        for row in layout()
    ]
    for row in rows:
        if edits and row["code"] in edits:
            row["geometry"] = edits[row["code"]]
        row["geometry"] = shapely.affinity.translate(row["geometry"], x0, y0)
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=design)
    return Drawing(frame=frame, design=design, x0=x0, y0=y0)


def layout() -> list[dict]:
    """Rows of the grid in metres from its south-west corner; boxes with corners only."""
    rows = []
    general_m, micro_m = TOTAL_M / GENERALS_PER_SIDE, TOTAL_M / GENERALS_PER_SIDE / MICROS_PER_SIDE
    for t in range(2):
        total = f"{STREET}{t + 1:03d}00"
        rows.append(
            _row(total, Tier.TOTAL, "", shapely.box(t * TOTAL_M, 0, (t + 1) * TOTAL_M, TOTAL_M))
        )
        for g, (gx, gy) in enumerate(np.ndindex(GENERALS_PER_SIDE, GENERALS_PER_SIDE), start=1):
            general = f"{total[:12]}{g:02d}"
            west, south = t * TOTAL_M + gx * general_m, gy * general_m
            rows.append(
                _row(
                    general,
                    Tier.GENERAL,
                    total,
                    shapely.box(west, south, west + general_m, south + general_m),
                )
            )
            for m, (mx, my) in enumerate(np.ndindex(MICROS_PER_SIDE, MICROS_PER_SIDE), start=1):
                box = shapely.box(
                    west + mx * micro_m,
                    south + my * micro_m,
                    west + (mx + 1) * micro_m,
                    south + (my + 1) * micro_m,
                )
                rows.append(_row(f"{general}{m:03d}", Tier.MICRO, general, box))
    return rows


def box_of(code: str) -> shapely.Polygon:
    """The undisturbed box of a grid, in metres from the corner, to derive edits from."""
    return next(row["geometry"] for row in layout() if row["code"] == code)


def _row(code: str, tier: Tier, parent: str, geometry: shapely.Polygon) -> dict:
    return {
        "code": code,
        "name": f"测试{tier.label_zh}{code[-3:]}",
        "tier": tier.value,
        "parent_code": parent,
        "households": 0,
        "residents": 0,
        "geometry": geometry,
    }


def _noisy(box: shapely.Polygon, rng: np.random.Generator, offset_m: float) -> shapely.Polygon:
    """The box with 5 to 60 extra vertices per km along each edge, up to ``offset_m`` off it."""
    corners = np.asarray(box.exterior.coords)
    ring = []
    for a, b in itertools.pairwise(corners):
        length = float(np.hypot(*(b - a)))
        n = int(rng.integers(5, 60) * length / 1000)
        s = np.sort(rng.uniform(0.0, 1.0, n))
        normal = np.array([-(b - a)[1], (b - a)[0]]) / length
        off = rng.choice([-1.0, 1.0], n) * offset_m * 10.0 ** rng.uniform(-2, 0, n)
        ring += [a, *(a + np.outer(s, b - a) + np.outer(off, normal))]
    return shapely.Polygon(ring)
