"""The canonical grid nests exactly: micro-grids tile without slivers, parents are their union.

Validation lets slivers narrower than the tolerance through; the frame a dispatch centre works
from must not keep them, or a report on the edge lands in a micro-grid whose general grid on
the map does not hold it. So the micro-grids are cleaned into one coverage (shared edges made
identical, overlaps given to one side, gaps narrower than the tolerance filled), and then every
general grid is rebuilt as the exact union of its micro-grids and every total grid as that of
its general grids.

Rebuilding the parent, rather than snapping children to it, is what makes the nesting exact:
snapping (``shapely.snap``) moves vertices onto vertices, so a child's vertex in the middle of a
parent's 10 km chord stays millimetres outside it, and clipping children to the parent would
leave the siblings' own slivers. The locator answers from micro-grids and names the general and
total grid by code; with each parent the union of its children, the map draws exactly the
ground the locator gives it. A parent moves by less than the tolerance, as validation checked.
"""

from __future__ import annotations

from collections import defaultdict

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from geo.crs import local_metric_crs, project, transformer_for
from geo.model import WGS84, Tier

#: Vertices closer than this share of the tolerance are merged while cleaning: enough to join
#: the near-duplicates a reprojection leaves along shared edges (and to clean in a tenth of
#: the time), too little to move a real corner.
_SNAP_SHARE = 0.1
#: How far the polygon round the extent reaches beyond everything, in metres.
_MARGIN_M = 1_000.0


def nest_exactly(gdf: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """A validated canonical frame with clean micro-grids and every parent their exact union."""
    geoms = np.array(gdf.geometry.values, dtype=object)
    tiers = gdf["tier"].to_numpy(dtype=object)
    micro = np.flatnonzero(tiers == Tier.MICRO.value)
    if len(micro):
        extent = geoms[tiers == Tier.TOTAL.value]
        geoms[micro] = clean_coverage(geoms[micro], tolerance_m=tolerance_m, extent=extent)
    codes, parents = gdf["code"].to_numpy(dtype=object), gdf["parent_code"].to_numpy(dtype=object)
    for tier in (Tier.GENERAL, Tier.TOTAL):
        _rebuild_parents(geoms, codes, tiers, parents, tier)
    return gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))


def clean_coverage(
    geoms: ArrayLike, *, tolerance_m: float, extent: ArrayLike | None = None
) -> NDArray:
    """Lon/lat polygons made a coverage: no overlaps, identical shared edges, no gap narrower
    than ``tolerance_m``. A set that is one already comes back as it was.

    A gap is ground enclosed by the polygons; with ``extent`` (the polygons the set should
    fill, such as the total grids), ground of the extent they leave along its edge counts too,
    so a narrow slit between two grids that opens onto the district border is closed as well.
    The cleaning runs in a local metric CRS, where the tolerance is a distance; every vertex it
    keeps gets its exact lon/lat back, and new ones are converted once, so edges shared in
    metres stay shared in lon/lat.
    """
    geoms = np.asarray(geoms, dtype=object)
    extent = np.asarray([] if extent is None else extent, dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    metric_crs = local_metric_crs((minx + maxx) / 2, (miny + maxy) / 2)
    metric = project(geoms, source=WGS84, target=metric_crs)
    metric_extent = project(extent, source=WGS84, target=metric_crs)
    coverage = metric
    if len(extent):
        surroundings = np.array([_surroundings(metric_extent, metric)], dtype=object)
        coverage = np.append(metric, surroundings)
    if shapely.coverage_is_valid(coverage, gap_width=tolerance_m):
        return geoms
    # types-shapely (2.1) predates coverage_clean, new in shapely 2.2.
    cleaned = shapely.coverage_clean(  # type: ignore[attr-defined]
        coverage, gap_width=tolerance_m, snapping_distance=tolerance_m * _SNAP_SHARE
    )[: len(metric)]
    known = (np.append(metric, metric_extent), np.append(geoms, extent))
    return _to_lonlat(cleaned, metric_crs, known=known)


def _surroundings(extent: NDArray, geoms: NDArray) -> BaseGeometry:
    """The ground round the extent (its holes filled), out to a margin beyond ``geoms``: as one
    more polygon of the coverage, it makes ground of the extent that ``geoms`` leave along its
    edge a gap between them."""
    parts = shapely.get_parts(shapely.union_all(extent))
    filled = shapely.union_all(shapely.polygons(shapely.get_exterior_ring(parts)))
    everything = np.append(geoms, np.array([filled], dtype=object))
    minx, miny, maxx, maxy = shapely.total_bounds(everything)
    frame = shapely.box(minx - _MARGIN_M, miny - _MARGIN_M, maxx + _MARGIN_M, maxy + _MARGIN_M)
    return shapely.difference(frame, filled)


def _to_lonlat(
    geoms: NDArray, metric_crs: pyproj.CRS, *, known: tuple[NDArray, NDArray]
) -> NDArray:
    """Metric geometries back in lon/lat: vertices found in ``known`` (metric, lon/lat pairs of
    geometries) take their original lon/lat, the rest are converted."""
    metric_xy, lonlat = (shapely.get_coordinates(g) for g in known)
    keys = metric_xy[:, 0] + 1j * metric_xy[:, 1]
    order = np.argsort(keys)
    keys = keys[order]
    inverse = transformer_for(metric_crs, WGS84)

    def _xy(xy: NDArray) -> NDArray:
        wanted = xy[:, 0] + 1j * xy[:, 1]
        at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[at] == wanted
        out = np.empty_like(xy)
        out[found] = lonlat[order[at[found]]]
        out[~found] = np.column_stack(inverse.transform(xy[~found, 0], xy[~found, 1]))
        return out

    return shapely.transform(geoms, _xy)


def _rebuild_parents(
    geoms: NDArray, codes: NDArray, tiers: NDArray, parents: NDArray, tier: Tier
) -> None:
    """Replace each parent of ``tier`` that has children by their union, in place."""
    child = tier.child
    assert child is not None, f"{tier} grids have no children"
    children: defaultdict[str, list[np.intp]] = defaultdict(list)
    for i in np.flatnonzero(tiers == child.value):
        children[parents[i]].append(i)
    for p in np.flatnonzero(tiers == tier.value):
        kids = children.get(codes[p])
        if kids:
            geoms[p] = shapely.coverage_union_all(geoms[kids])
