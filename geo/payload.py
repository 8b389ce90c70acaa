"""Map layers as served: per tier, simplified with shared edges kept shared, quantised, geobuf.

Each tier is simplified as a coverage (``shapely.coverage_simplify``), so neighbouring grids
still meet exactly, then rounded to 1e-5° (about a metre) and encoded as geobuf: integer,
delta-encoded coordinates that the browser decodes in dash-leaflet. The result is sent once
per grid set from a digest-named URL and cached by the browser.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

import geobuf
import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from geo.crs import CoordSystem, from_wgs84, local_metric_crs, project
from geo.grids import GridSet
from geo.model import WGS84, Tier

#: Decimal places kept in served coordinates (1e-5° ≈ 1.1 m north–south, 0.95 m east–west here).
PRECISION = 5
#: Simplification tolerance in metres (coverage_simplify: about the square root of the triangle
#: areas removed). One value for every tier, so a total grid's outline drawn over its micro-grids
#: still runs along their edges.
TOLERANCE_M = 3.0
PROPERTIES = ("code", "name")


@dataclass(frozen=True, slots=True)
class TierPayload:
    tier: Tier
    body: bytes  # geobuf
    gzipped: bytes
    etag: str
    features: int
    max_error_m: float

    @property
    def media_type(self) -> str:
        return "application/x-protobuf"


def build_tier(grids: GridSet, tier: Tier, *, display: CoordSystem = CoordSystem.WGS84,
               tolerance_m: float | None = None) -> TierPayload:
    """One tier's served bytes, with the largest position error the simplification caused."""
    frame = grids.tier(tier)
    original = frame.geometry.to_numpy()
    metric = _metric_crs(grids)
    tolerance = TOLERANCE_M if tolerance_m is None else tolerance_m
    simplified = simplify_coverage(original, metric=metric, tolerance_m=tolerance)
    served = shapely.set_precision(simplified, 10**-PRECISION, mode="pointwise")
    error = _max_error_m(original, served, metric=metric)
    drawn = from_wgs84(served, display) if display is not CoordSystem.WGS84 else served
    body = encode(drawn, frame[list(PROPERTIES)].to_dict("records"))
    return TierPayload(
        tier=tier,
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=hashlib.sha256(body).hexdigest()[:20],
        features=len(frame),
        max_error_m=error,
    )


def simplify_coverage(
    geoms: NDArray, *, metric: pyproj.CRS | str, tolerance_m: float
) -> NDArray:
    """Coverage simplification in metres; shared edges stay shared."""
    projected = project(geoms, source=WGS84, target=metric)
    simplified = shapely.coverage_simplify(projected, tolerance_m)
    return project(simplified, source=metric, target=WGS84)


def encode(geoms: NDArray, properties: list[dict]) -> bytes:
    """Geobuf bytes of a FeatureCollection built from geometries and their properties."""
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, properties, strict=True)
    ]
    return geobuf.encode({"type": "FeatureCollection", "features": features}, PRECISION, 2)


def decode(body: bytes) -> gpd.GeoDataFrame:
    """The served features back as a frame (tests and benchmarks check what was sent)."""
    fc = geobuf.decode(body)
    return gpd.GeoDataFrame.from_features(fc["features"], crs=WGS84)


def to_json_bytes(grids: GridSet) -> bytes:
    """The naive payload: ``GeoDataFrame.to_json()`` of every unsimplified grid."""
    return grids.frame.to_json().encode()


def _metric_crs(grids: GridSet) -> pyproj.CRS:
    minx, miny, maxx, maxy = grids.frame.total_bounds
    return local_metric_crs((minx + maxx) / 2, (miny + maxy) / 2)


def _max_error_m(original: NDArray, served: NDArray, *, metric: pyproj.CRS) -> float:
    """Largest distance between an original boundary and its served version, in metres."""
    a = project(shapely.boundary(original), source=WGS84, target=metric)
    b = project(shapely.boundary(served), source=WGS84, target=metric)
    return float(np.max(shapely.hausdorff_distance(a, b, densify=0.25)))


