"""What a drill covers: its scope's micro-grids, its muster points and who is called.

A scope is the district (6 digits), a street (9), a total or general grid (14) or a
micro-grid (17); the micro-grids under it are those whose codes start with its prefix (a
total grid's prefix is its community, the first 12 digits). Muster points come from the
coordinator or from the scenario's rule: one per community, one per street, or one for the
whole scope, each at a point inside its area; each responder goes to the point serving their
micro-grid, else the nearest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import shapely
from shapely.geometry.base import BaseGeometry

from dispatch.drills.models import MusterPoint
from dispatch.drills.scenarios import Scenario
from dispatch.workers.models import Worker, WorkerRole
from geo.grids import GridSet, UnknownGridError
from geo.model import DISTRICT_CODE, Tier, street_names

EARTH_M = 6_371_008.8


class ScopeError(ValueError):
    """A scope code that names nothing in the loaded grid set."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"scope {scope!r} is not the district ({DISTRICT_CODE}), a street or "
                         "a grid of the loaded grid set")
        self.scope = scope


class TeamError(ValueError):
    """Named team members who are not on the roster, or a role that is not a worker role."""

    def __init__(self, field: str, unknown: Sequence[str]) -> None:
        shown = ", ".join(repr(u) for u in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        super().__init__(f"{field}: not known: {shown}{more}")
        self.field, self.unknown = field, list(unknown)


def scope_prefix(scope: str) -> str:
    """The code prefix every micro-grid in the scope starts with."""
    if len(scope) == 14 and scope.endswith("00"):
        return scope[:12]
    return scope


def scope_name(grids: GridSet, scope: str) -> str:
    if scope == DISTRICT_CODE:
        return grids.summary()["district"]
    if len(scope) == 9:
        return street_names().get(scope, (scope, ""))[0]
    return grids.ref(scope).name


def check_scope(grids: GridSet, scope: str) -> None:
    if scope == DISTRICT_CODE or (len(scope) == 9 and scope in grids.street_codes):
        return
    if len(scope) in (14, 17):
        try:
            grids.ref(scope)
            return
        except UnknownGridError:
            pass
    raise ScopeError(scope)


def micro_grids(grids: GridSet, scope: str) -> dict[str, int]:
    """Micro-grid code → households, for every micro-grid in the scope."""
    micro = grids.tier(Tier.MICRO)
    prefix = scope_prefix(scope)
    inside = micro[micro["code"].str.startswith(prefix)]
    return dict(zip(inside["code"], inside["households"].astype(int), strict=True))


def participants(workers: Iterable[Worker], *, scope: str, roles: Sequence[str],
                 team: Sequence[str]) -> list[Worker]:
    """Who is called: the named team, else everyone of those roles in the scope."""
    by_id = {w.id: w for w in workers}
    if team:
        unknown = [w for w in team if w not in by_id]
        if unknown:
            raise TeamError("team", unknown)
        return [by_id[w] for w in dict.fromkeys(team)]
    known = {r.value for r in WorkerRole}
    if unknown := [r for r in roles if r not in known]:
        raise TeamError("roles", unknown)
    prefix, wanted = scope_prefix(scope), set(roles)
    return sorted((w for w in by_id.values() if w.grid.startswith(prefix) and
                   w.role.value in wanted), key=lambda w: w.id)


def default_points(grids: GridSet, scope: str, sc: Scenario) -> list[MusterPoint]:
    """The scenario's muster points for the scope, each inside the area it serves."""
    prefix = scope_prefix(scope)
    if sc.points == "community" and len(prefix) <= 12:
        totals = grids.tier(Tier.TOTAL)
        areas = totals[totals["code"].str.startswith(prefix)]
        return [_point(f"{name} 集结点", geom, sc.radius_m, serves=code[:12])
                for code, name, geom in zip(areas["code"], areas["name"], areas.geometry,
                                            strict=True)]
    if sc.points == "street" and len(prefix) <= 9:
        streets = grids.streets_frame()
        areas = streets[streets["street_code"].str.startswith(prefix)]
        return [_point(f"{name} 集结点", geom, sc.radius_m, serves=code)
                for code, name, geom in zip(areas["street_code"], areas["name"], areas.geometry,
                                            strict=True)]
    geom = _scope_geometry(grids, scope)
    return [_point(f"{scope_name(grids, scope)} 集结点", geom, sc.radius_m, serves=prefix)]


def assign_points(people: Sequence[Worker], points: Sequence[MusterPoint]) -> dict[str, int]:
    """Worker id → index of their point: the one serving their grid, else the nearest."""
    out = {}
    for w in people:
        serving = [i for i, p in enumerate(points) if p.serves and w.grid.startswith(p.serves)]
        if serving:
            out[w.id] = serving[0]
        else:
            out[w.id] = min(range(len(points)), key=lambda i: distance_m(
                w.home_lon, w.home_lat, points[i].lon, points[i].lat))
    return out


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine): the geofence's yardstick."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(a)))


def _scope_geometry(grids: GridSet, scope: str) -> BaseGeometry:
    if scope == DISTRICT_CODE:
        return grids.streets_frame().geometry.union_all()
    if len(scope) == 9:
        streets = grids.streets_frame()
        return streets[streets["street_code"] == scope].geometry.iloc[0]
    return grids.geometry(scope)


def _point(name: str, geom: BaseGeometry, radius_m: float, *, serves: str) -> MusterPoint:
    p = shapely.point_on_surface(geom)
    return MusterPoint(name=name[:40], lon=round(p.x, 6), lat=round(p.y, 6), radius_m=radius_m,
                       serves=serves)
