"""Locate: the raster shortcut answers exactly what the polygons answer; outside is outside."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.grids import GridSet
from geo.locate import OUTSIDE, Locator
from geo.model import Tier


@pytest.fixture(scope="module")
def locator(demo_grids):
    return Locator(demo_grids)


def test_agrees_with_polygons_on_random_points(locator, demo_grids):
    micro = demo_grids.tier(Tier.MICRO)
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = micro.total_bounds
    lon, lat = rng.uniform(minx, maxx, 200_000), rng.uniform(miny, maxy, 200_000)
    got = locator.indices(lon, lat)
    tree = shapely.STRtree(micro.geometry.to_numpy())
    p, g = tree.query(shapely.points(lon, lat), predicate="intersects")
    want = np.full(len(lon), OUTSIDE)
    want[p[::-1]] = g[::-1]  # first hit wins, like the locator
    on_edge = np.bincount(p, minlength=len(lon)) > 1
    assert (got[~on_edge] == want[~on_edge]).all()
    assert (got != OUTSIDE).any() and (got == OUTSIDE).any()


def test_points_on_vertices_and_edges_resolve_to_a_touching_grid(locator, demo_grids):
    micro = demo_grids.tier(Tier.MICRO)
    vertices = shapely.get_coordinates(micro.geometry.iloc[:300].boundary.to_numpy())
    got = locator.indices(vertices[:, 0], vertices[:, 1])
    assert (got != OUTSIDE).all()
    touches = shapely.intersects(
        micro.geometry.to_numpy()[got], shapely.points(vertices[:, 0], vertices[:, 1])
    )
    assert touches.all()


def test_single_point_gives_the_whole_chain(locator, demo_grids):
    loc = locator.locate(103.893, 30.806)
    assert not loc.outside
    chain = [ref.code for ref in demo_grids.chain(loc.micro)]
    assert chain == [loc.total, loc.general, loc.micro]
    assert loc.street == loc.micro[:9]
    assert loc.street_name.endswith(("街道", "镇"))


@pytest.mark.parametrize(
    "lon, lat", [(103.5, 30.8), (104.3, 30.6), (30.8, 103.9), (0, 0), (103.72, 30.96)]
)
def test_outside_is_outside_never_the_nearest_grid(locator, lon, lat):
    assert locator.locate(lon, lat).as_dict() == {"lon": lon, "lat": lat, "outside": True}


def test_small_hand_made_grid_with_a_hole():
    # Two micro-grids side by side with a gap between them: a point in the gap is outside.
    rows = []
    for code, name, tier, parent, geom in [
        ("51011700100100", "甲社区", "total", "", shapely.box(103.90, 30.80, 103.93, 30.81)),
        (
            "51011700100101",
            "甲社区第1网格",
            "general",
            "51011700100100",
            shapely.box(103.90, 30.80, 103.93, 30.81),
        ),
        (
            "51011700100101001",
            "一栋",
            "micro",
            "51011700100101",
            shapely.box(103.90, 30.80, 103.91, 30.81),
        ),
        (
            "51011700100101002",
            "二栋",
            "micro",
            "51011700100101",
            shapely.box(103.92, 30.80, 103.93, 30.81),
        ),
    ]:
        rows.append(
            {
                "code": code,
                "name": name,
                "tier": tier,
                "parent_code": parent,
                "households": 10,
                "residents": 25,
                "geometry": geom,
            }
        )
    grids = GridSet.from_frame(gpd.GeoDataFrame(rows, crs=4326), synthetic=True, source="t")
    loc = Locator(grids, cell_m=50)
    assert loc.locate(103.905, 30.805).micro == "51011700100101001"
    assert loc.locate(103.925, 30.805).micro == "51011700100101002"
    assert loc.locate(103.915, 30.805).outside
