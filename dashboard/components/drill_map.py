"""The drill screen's map: the scope's grids, the muster points with their fences.

Geometry comes once from the same cached layer URLs the situation map uses; live colours
(percent swept per micro-grid) and responders' markers are applied by ``assets/drills_map.js``
to layers it registers by code, never by re-sending geometry or changing ``hideout``.
"""

from __future__ import annotations

from typing import Any

import dash_leaflet as dl
import shapely

from dashboard.api.geo import layer_url
from dashboard.components.tiles import tile_layers
from dispatch.drills.models import DrillKind
from dispatch.drills.planning import scope_prefix
from geo.crs import CoordSystem, from_wgs84, point_from_wgs84
from geo.model import Tier

FN = "gridDispatch.drills.map."
#: Panes bottom to top; responders get theirs from the script (a canvas of their own).
PANES = {"grids": 410, "streets": 430, "points": 450}
#: Up to this many muster points carry their names on the map; more, and names show on hover.
LABELLED_POINTS = 12


def drill_map(runtime, view: dict[str, Any] | None) -> list:
    """The map and what sits on it; without a drill, the district's streets only."""
    scope = view["scope"] if view else ""
    bounds = _bounds(runtime, scope)
    kind = view["kind"] if view else ""
    tiles = tile_layers(runtime.settings)
    credits = [dl.AttributionControl(prefix="", position="bottomright")] if tiles else []
    layers = [_streets(runtime, bounds)]
    if view:
        layers.append(_grids(runtime, view, bounds))
    if view and view["points"]:
        layers.append(dl.Pane(_points(runtime, view["points"], bounds), name="points",
                              style={"zIndex": PANES["points"]}))
    (miny, minx), (maxy, maxx) = bounds
    return [dl.Map(
        [*tiles, *layers, dl.ScaleControl(imperial=False), *credits],
        id="drill-map", preferCanvas=True, center=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom=12, zoomSnap=0.25, zoomDelta=0.5, minZoom=9, maxZoom=19,
        attributionControl=False, style={"width": "100%", "height": "100%"},
        className=f"drill-map drill-map-{kind or 'none'}",
    )]


def _streets(runtime, bounds: list) -> dl.Pane:
    return dl.Pane(dl.GeoJSON(
        id="drill-streets", url=layer_url(runtime, "streets"), format="geobuf",
        style={"variable": FN + "streetStyle"}, onEachFeature={"variable": FN + "onEachStreet"},
        hideout={"bounds": bounds}, interactive=False,
    ), name="streets", style={"zIndex": PANES["streets"]})


def _grids(runtime, view: dict[str, Any], bounds: list) -> dl.Pane:
    """A sweep colours micro-grids; a muster outlines its communities (total grids)."""
    tier = "micro" if view["kind"] == DrillKind.SWEEP.value else "total"
    return dl.Pane(dl.GeoJSON(
        id="drill-grids", url=layer_url(runtime, tier), format="geobuf",
        style={"variable": FN + "gridStyle"}, onEachFeature={"variable": FN + "onEachGrid"},
        hideout={"tier": tier, "prefix": _community_prefix(view["scope"], tier),
                 "bounds": bounds},
        bubblingMouseEvents=False,
    ), name="grids", style={"zIndex": PANES["grids"]})


def _community_prefix(scope: str, tier: str) -> str:
    """The code prefix of the scope's grids of this tier (a micro-grid's community for a
    muster's total-grid outline)."""
    prefix = scope_prefix(scope)
    return prefix[:12] if tier == "total" and len(prefix) > 12 else prefix


def _points(runtime, points: list[dict[str, Any]], bounds: list) -> dl.GeoJSON:
    coords = runtime.display_coords
    features = []
    for i, p in enumerate(points):
        lon, lat = p["lon"], p["lat"]
        if coords is not CoordSystem.WGS84:
            lon, lat = point_from_wgs84(lon, lat, coords)
        features.append({"type": "Feature", "geometry": {"type": "Point",
                                                        "coordinates": [lon, lat]},
                         "properties": {"index": i, "name": p["name"],
                                        "radius_m": p["radius_m"]}})
    return dl.GeoJSON(
        id="drill-points", data={"type": "FeatureCollection", "features": features},
        pointToLayer={"variable": FN + "pointToLayer"},
        onEachFeature={"variable": FN + "onEachPoint"},
        hideout={"bounds": bounds, "labels": len(points) <= LABELLED_POINTS},
    )


def _bounds(runtime, scope: str) -> list:
    """[[south, west], [north, east]] of the scope on the map (the district without one)."""
    frame = runtime.grids.tier(Tier.MICRO)
    if scope:
        inside = frame[frame["code"].str.startswith(scope_prefix(scope))]
        frame = inside if len(inside) else frame
    box = shapely.box(*frame.total_bounds)
    minx, miny, maxx, maxy = from_wgs84([box], runtime.display_coords)[0].bounds
    return [[miny, minx], [maxy, maxx]]
