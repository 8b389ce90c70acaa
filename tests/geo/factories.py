"""Grid frames for tests: a small hand-made valid grid in Pidu, ways to break it, and a large one.

The small grid is two total grids side by side, each cut into a north and a south general grid,
each cut west to east into two or three micro-grids; every polygon is a lon/lat box, so a
broken copy can be made by moving one edge by a known number of metres.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import prcoords
import pyproj
import shapely

from geo.model import PERSONS_PER_HOUSEHOLD, WGS84, Tier

WEST, SOUTH = 103.90, 30.80
TOTAL_WIDTH, HEIGHT = 0.010, 0.010
STREET = "510117001"
COMMUNITIES = (("001", "望丛社区"), ("002", "鹃城社区"))
METRES_PER_DEG_LAT = 110_900.0
METRES_PER_DEG_LON = 111_320.0 * math.cos(math.radians(SOUTH + HEIGHT / 2))
#: A metric CRS for measuring test geometry independently of the code under test.
PIDU_TM = pyproj.CRS.from_proj4("+proj=tmerc +lon_0=103.9 +lat_0=30.8 +ellps=GRS80 +units=m")


def small_grid() -> gpd.GeoDataFrame:
    """A valid grid: 2 total, 4 general and 10 micro-grids with real-looking codes and names.

    Fully noded, as topological editing in desktop GIS leaves a file: parents are the unions of
    their children, and neighbours share every vertex along a shared edge (north and south
    halves of a community are cut at the same longitudes), so the grid stays valid through any
    reprojection, vertex by vertex or densified.
    """
    rows = []
    for t, (seq, community) in enumerate(COMMUNITIES):
        base, west = f"{STREET}{seq}", WEST + t * TOTAL_WIDTH
        generals = []
        for g, (half, south) in enumerate((("北", SOUTH + HEIGHT / 2), ("南", SOUTH)), start=1):
            code = f"{base}{g:02d}"
            micros = _micro_rows(code, f"{community}{half}片", west, south, 2 + t)
            generals.append(_parent_row(code, f"{community}{half}片网格", Tier.GENERAL, micros))
            rows += micros
        rows += generals
        rows.append(_parent_row(f"{base}00", f"{community}总网格", Tier.TOTAL, generals))
    order = {Tier.TOTAL.value: 0, Tier.GENERAL.value: 1, Tier.MICRO.value: 2}
    rows.sort(key=lambda r: (order[r["tier"]], r["code"]))
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84)


def _micro_rows(parent: str, prefix: str, west: float, south: float, n: int) -> list[dict]:
    width = TOTAL_WIDTH / n
    return [
        _row(
            f"{parent}{m:03d}",
            f"{prefix}第{m}微网格",
            Tier.MICRO,
            parent,
            shapely.box(west + (m - 1) * width, south, west + m * width, south + HEIGHT / 2),
            households=20 + 13 * m + int(parent[-4:]) % 17,
        )
        for m in range(1, n + 1)
    ]


def _parent_row(code: str, name: str, tier: Tier, children: list[dict]) -> dict:
    parent = "" if tier is Tier.TOTAL else code[:12] + "00"
    geometry = shapely.union_all([c["geometry"] for c in children])
    return _row(code, name, tier, parent, geometry, sum(c["households"] for c in children))


def _row(code, name, tier, parent, geometry, households) -> dict:
    return {
        "code": code,
        "name": name,
        "tier": tier.value,
        "parent_code": parent,
        "households": households,
        "residents": round(households * PERSONS_PER_HOUSEHOLD),
        "geometry": geometry,
    }


def with_values(grid: gpd.GeoDataFrame, code: str, /, **values: object) -> gpd.GeoDataFrame:
    """A copy with some fields of the grid ``code`` changed."""
    out, at = grid.copy(), _at(grid, code)
    for column, value in values.items():
        out.at[at, column] = value
    return out


def geometry_of(grid: gpd.GeoDataFrame, code: str) -> shapely.Geometry:
    return grid.geometry[_at(grid, code)]


def _at(grid: gpd.GeoDataFrame, code: str):
    """The index label of the grid ``code``; a typo in a test fails loudly."""
    found = grid.index[grid["code"] == code]
    if len(found) == 0:
        raise KeyError(code)
    return found[0]


def with_geometry(grid: gpd.GeoDataFrame, code: str, geometry) -> gpd.GeoDataFrame:
    out = grid.copy()
    out.loc[[_at(grid, code)], "geometry"] = gpd.GeoSeries([geometry], crs=WGS84).values
    return out


def moved_edges(
    grid: gpd.GeoDataFrame,
    code: str,
    *,
    east_m: float = 0.0,
    west_m: float = 0.0,
    north_m: float = 0.0,
    south_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """The box of grid ``code`` with its edges moved outwards (negative: inwards) by metres."""
    minx, miny, maxx, maxy = geometry_of(grid, code).bounds
    box = shapely.box(
        minx - west_m / METRES_PER_DEG_LON,
        miny - south_m / METRES_PER_DEG_LAT,
        maxx + east_m / METRES_PER_DEG_LON,
        maxy + north_m / METRES_PER_DEG_LAT,
    )
    return with_geometry(grid, code, box)


def with_hole(grid: gpd.GeoDataFrame, total_code: str, *, side_m: float) -> gpd.GeoDataFrame:
    """A square hole at the centre of a total grid, cut from it and everything inside it."""
    centre = geometry_of(grid, total_code).centroid
    half_x, half_y = side_m / 2 / METRES_PER_DEG_LON, side_m / 2 / METRES_PER_DEG_LAT
    hole = shapely.box(centre.x - half_x, centre.y - half_y, centre.x + half_x, centre.y + half_y)
    out = grid.copy()
    inside = out["code"].str.startswith(total_code[:12])
    out.loc[inside, "geometry"] = out.loc[inside].geometry.difference(hole)
    return out


def height_m(grid: gpd.GeoDataFrame, code: str) -> float:
    """North-south extent of a grid's box, to turn a sliver area into a width."""
    _, miny, _, maxy = geometry_of(grid, code).bounds
    return (maxy - miny) * METRES_PER_DEG_LAT


def per_vertex(geoms, fn: Callable[[prcoords.Coords], prcoords.Coords]):
    """Apply a prcoords (lat, lon) conversion to every vertex of lon/lat geometries."""

    def _convert(xy):
        return np.array([(c.lon, c.lat) for c in (fn(prcoords.Coords(y, x)) for x, y in xy)])

    return shapely.transform(np.asarray(geoms, dtype=object), _convert)


def hausdorff_m(a, b) -> float:
    """Hausdorff distance in metres between two lon/lat geometries, edges densified tenfold."""
    to_m = pyproj.Transformer.from_crs(WGS84, PIDU_TM, always_xy=True)

    def _xy(xy):
        return np.column_stack(to_m.transform(xy[:, 0], xy[:, 1]))

    a, b = shapely.transform(a, _xy), shapely.transform(b, _xy)
    return float(shapely.hausdorff_distance(a, b, densify=0.1))


def voronoi_grids(
    n_total: int,
    n_general: int,
    n_micro: int,
    *,
    seed: int = 0,
    bounds: tuple[float, float, float, float] = (103.75, 30.70, 104.05, 30.95),
) -> gpd.GeoDataFrame:
    """A valid nested grid of any size: Voronoi cells of random seeds, clipped to their parents.

    Made in lon/lat and not noded: a child's corner on its parent's edge is no parent vertex,
    so the grid is exactly valid in lon/lat, as data drawn on a lon/lat map is.
    """
    rng = np.random.default_rng(seed)
    totals = _split(np.array([shapely.box(*bounds)]), np.array([n_total]), rng)[0]
    generals, general_parent = _split(totals, _spread(n_general, totals, rng), rng)
    micros, micro_parent = _split(generals, _spread(n_micro, generals, rng), rng)
    total_codes = [f"510117{s:03d}{i // 10 + 1:03d}00" for i, s in enumerate(_street_seq(n_total))]
    general_codes = _child_codes(total_codes, general_parent, width=2)
    micro_codes = _child_codes(general_codes, micro_parent, width=3)
    frames = [
        _frame(total_codes, [""] * n_total, Tier.TOTAL, totals),
        _frame(general_codes, [total_codes[p] for p in general_parent], Tier.GENERAL, generals),
        _frame(micro_codes, [general_codes[p] for p in micro_parent], Tier.MICRO, micros),
    ]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)


def _street_seq(n: int) -> list[int]:
    streets = (1, 4, 5, 6, 7, 8, 9, 104, 106, 115)
    return [streets[i % len(streets)] for i in range(n)]


def _spread(n: int, parents, rng) -> np.ndarray:
    """At least one child per parent, the rest in proportion to area."""
    areas = shapely.area(parents)
    return 1 + rng.multinomial(n - len(parents), areas / areas.sum())


def _split(parents, counts, rng) -> tuple[np.ndarray, np.ndarray]:
    cells, owner = [], []
    for i, (parent, k) in enumerate(zip(parents, counts, strict=True)):
        if k == 1:
            cells.append(parent)
        else:
            seeds = shapely.MultiPoint(_points_in(parent, int(k), rng))
            cells.extend(shapely.voronoi_polygons(seeds, extend_to=parent, ordered=True).geoms)
        owner.extend([i] * int(k))
    owner = np.array(owner)
    return shapely.intersection(np.array(cells, dtype=object), parents[owner]), owner


def _points_in(polygon, k: int, rng) -> np.ndarray:
    minx, miny, maxx, maxy = polygon.bounds
    found = np.empty((0, 2))
    while len(found) < k:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * k, 2))
        found = np.vstack([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
    return found[:k]


def _child_codes(parent_codes: list[str], owner: np.ndarray, *, width: int) -> list[str]:
    seen: dict[int, int] = {}
    out = []
    for p in owner:
        seen[p] = seen.get(p, 0) + 1
        stem = parent_codes[p][:12] if width == 2 else parent_codes[p]
        out.append(f"{stem}{seen[p]:0{width}d}")
    return out


def _frame(codes, parents, tier: Tier, geoms) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": codes,
            "name": [f"测试{tier.label_zh}{c[-3:]}" for c in codes],
            "tier": tier.value,
            "parent_code": parents,
            "households": 0,
            "residents": 0,
            "geometry": list(geoms),
        }
    )
