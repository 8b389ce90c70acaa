"""Coordinate systems: the local metric CRS for areas and distances, and China's offset datums.

Chinese web maps publish offset coordinates: GCJ-02 (Amap, Tencent) and BD-09 (Baidu). A grid
file traced over such tiles is off by hundreds of metres until converted back to WGS-84.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum

import numpy as np
import prcoords
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

#: One (lon, lat) → (lon, lat) conversion of a single vertex.
VertexFn = Callable[[float, float], tuple[float, float]]


class CoordSystem(StrEnum):
    """The lon/lat systems grid files come in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def local_metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """A transverse Mercator on GRS80 (CGCS2000's ellipsoid) centred on (lon, lat).

    Scale error stays below 0.01% within 90 km of the centre, so areas in m² and distances in m
    are right for a district. The origin sits at the centre, which keeps coordinates small and
    the overlay arithmetic precise.
    """
    return pyproj.CRS.from_proj4(
        f"+proj=tmerc +lat_0={lat:.9f} +lon_0={lon:.9f} +k=1 +x_0=0 +y_0=0 "
        "+ellps=GRS80 +units=m +no_defs +type=crs"
    )


def project(
    geoms: ArrayLike,
    *,
    source: pyproj.CRS | str,
    target: pyproj.CRS | str,
    max_segment: float | None = None,
) -> NDArray:
    """``geoms`` transformed from ``source`` to ``target`` (lon/lat axis order).

    A straight edge in one CRS is a curve in another: a 1 km edge bows about a centimetre, so
    a vertex lying on a neighbour's edge moves off it and a zero-area sliver gains square
    metres. ``max_segment`` (in source units) first densifies edges so they follow the curve.
    """
    transformer = transformer_for(source, target)

    def _xy(coords: NDArray) -> NDArray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    geoms = np.asarray(geoms, dtype=object)
    if max_segment is not None:
        geoms = shapely.segmentize(geoms, max_segment)
    return shapely.transform(geoms, _xy)


@functools.lru_cache(maxsize=64)
def transformer_for(source: pyproj.CRS | str, target: pyproj.CRS | str) -> pyproj.Transformer:
    """A (lon/lat axis order) transformer, kept: building one takes PROJ tens of milliseconds,
    and every check and import projects between the same few CRSs many times."""
    return pyproj.Transformer.from_crs(source, target, always_xy=True)


def to_wgs84(geoms: ArrayLike, coords: CoordSystem) -> NDArray:
    """Geometries in GCJ-02 or BD-09 lon/lat converted to WGS-84; WGS-84 comes back unchanged."""
    coords = CoordSystem(coords)
    if coords is CoordSystem.WGS84:
        return np.asarray(geoms, dtype=object)
    fwd, rev = {
        CoordSystem.GCJ02: (prcoords.wgs_gcj, prcoords.gcj_wgs_bored),
        CoordSystem.BD09: (prcoords.wgs_bd, prcoords.bd_wgs_bored),
    }[coords]
    return _per_vertex(geoms, _inverse(fwd, rev))


def point_from_wgs84(lon: float, lat: float, coords: CoordSystem) -> tuple[float, float]:
    """One WGS-84 position offset into GCJ-02 or BD-09: the scalar path live screens take for
    every event marker, without building geometries."""
    coords = CoordSystem(coords)
    if coords is CoordSystem.WGS84 or not _in_china(lon, lat):
        return lon, lat
    fwd = {CoordSystem.GCJ02: prcoords.wgs_gcj, CoordSystem.BD09: prcoords.wgs_bd}[coords]
    out = fwd(prcoords.Coords(lat, lon), False)
    return out.lon, out.lat


def from_wgs84(geoms: ArrayLike, coords: CoordSystem) -> NDArray:
    """WGS-84 geometries offset into GCJ-02 or BD-09, to draw over those tiles."""
    coords = CoordSystem(coords)
    if coords is CoordSystem.WGS84:
        return np.asarray(geoms, dtype=object)
    fwd = {CoordSystem.GCJ02: prcoords.wgs_gcj, CoordSystem.BD09: prcoords.wgs_bd}[coords]

    def _vertex(lon: float, lat: float) -> tuple[float, float]:
        out = fwd(prcoords.Coords(lat, lon), False)
        return out.lon, out.lat

    return _per_vertex(geoms, _vertex)


def _inverse(fwd: Callable, rev: Callable) -> VertexFn:
    """prcoords' iterative inverse, refined by one more fixed-point step.

    The library stops iterating once a step is below PRC_EPS = 1e-5° (about a metre), which
    leaves BD-09 a centimetre off; one further step brings both inverses below a millimetre.
    """

    def _vertex(lon: float, lat: float) -> tuple[float, float]:
        offset = prcoords.Coords(lat, lon)
        wgs = rev(offset)
        wgs = wgs - (fwd(wgs, False) - offset)
        return wgs.lon, wgs.lat

    return _vertex


def _per_vertex(geoms: ArrayLike, fn: VertexFn) -> NDArray:
    """Apply ``fn`` to every vertex inside China; vertices elsewhere carry no offset to undo."""

    def _convert(xy: NDArray) -> NDArray:
        out = np.array(xy, dtype=float, copy=True)
        for i, (lon, lat) in enumerate(xy):
            if _in_china(lon, lat):
                out[i] = fn(float(lon), float(lat))
        return out

    return shapely.transform(np.asarray(geoms, dtype=object), _convert)


def _in_china(lon: float, lat: float) -> bool:
    return bool(np.isfinite(lon) and np.isfinite(lat)) and prcoords.sanity_in_china_p(
        prcoords.Coords(lat, lon)
    )
