"""Offset datums convert both ways to the centimetre; the local metric CRS measures true metres."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.crs import CoordSystem, from_wgs84, local_metric_crs, project, to_wgs84
from geo.model import WGS84

GEOD = pyproj.Geod(ellps="GRS80")
PIDU_LON = st.floats(min_value=103.70, max_value=104.10)
PIDU_LAT = st.floats(min_value=30.65, max_value=31.00)
OFFSET = [CoordSystem.GCJ02, CoordSystem.BD09]


def _metres(a: shapely.Point, b: shapely.Point) -> float:
    return float(GEOD.inv(a.x, a.y, b.x, b.y)[2])


@pytest.mark.parametrize("coords", OFFSET)
@settings(max_examples=200, deadline=None)
@given(lon=PIDU_LON, lat=PIDU_LAT)
def test_round_trip_within_a_centimetre(coords: CoordSystem, lon: float, lat: float) -> None:
    point = shapely.Point(lon, lat)
    back = to_wgs84(from_wgs84([point], coords), coords)[0]
    assert _metres(point, back) <= 0.01


@pytest.mark.parametrize("coords", OFFSET)
def test_round_trip_keeps_polygon_structure(coords: CoordSystem) -> None:
    shell = shapely.box(103.90, 30.80, 103.92, 30.82)
    polygon = shell.difference(shapely.box(103.905, 30.805, 103.91, 30.81))
    back = to_wgs84(from_wgs84([polygon, None, shapely.Polygon()], coords), coords)
    assert back[0].geom_type == "Polygon" and len(back[0].interiors) == 1
    assert shapely.equals_exact(back[0], polygon, tolerance=1e-7)
    assert back[1] is None and back[2].is_empty


def test_offsets_in_chengdu_are_hundreds_of_metres() -> None:
    point = shapely.Point(103.887, 30.808)
    gcj = from_wgs84([point], CoordSystem.GCJ02)[0]
    bd = from_wgs84([point], CoordSystem.BD09)[0]
    assert 100 < _metres(point, gcj) < 1000
    assert _metres(point, bd) > _metres(point, gcj) + 100


def test_wgs84_is_returned_unchanged() -> None:
    geoms = [shapely.box(103.9, 30.8, 103.91, 30.81), None]
    for convert in (to_wgs84, from_wgs84):
        out = convert(geoms, CoordSystem.WGS84)
        assert out[0] is geoms[0] and out[1] is None


def test_vertices_outside_china_are_left_alone() -> None:
    paris = shapely.Point(2.35, 48.85)
    for coords in OFFSET:
        assert to_wgs84([paris], coords)[0].equals(paris)
        assert from_wgs84([paris], coords)[0].equals(paris)


def test_local_metric_crs_measures_true_areas_and_distances() -> None:
    box = shapely.box(103.90, 30.80, 103.91, 30.81)
    crs = local_metric_crs(103.905, 30.805)
    assert crs.is_projected and crs.ellipsoid.name == "GRS 1980"
    metric = project([box], source=WGS84, target=crs, max_segment=1e-4)[0]
    true_area = abs(GEOD.geometry_area_perimeter(box)[0])
    assert metric.area == pytest.approx(true_area, rel=1e-4)
    a, b = project(
        [shapely.Point(103.90, 30.80), shapely.Point(103.91, 30.81)], source=WGS84, target=crs
    )
    assert a.distance(b) == pytest.approx(
        _metres(shapely.Point(103.90, 30.80), shapely.Point(103.91, 30.81)), rel=1e-4
    )


def test_densified_projection_keeps_a_vertex_on_its_neighbours_edge() -> None:
    """A T-junction straight in lon/lat stays a T-junction in metres once edges are densified."""
    edge = shapely.LineString([(103.90, 30.80), (103.92, 30.80)])
    corner = shapely.Point(103.9137, 30.80)
    crs = local_metric_crs(103.91, 30.80)
    plain = project([edge, corner], source=WGS84, target=crs)
    dense = project([edge, corner], source=WGS84, target=crs, max_segment=1e-4)
    assert plain[0].distance(plain[1]) > 0.005
    assert dense[0].distance(dense[1]) < 1e-4
    assert np.allclose(shapely.get_coordinates(dense[1]), shapely.get_coordinates(plain[1]))
