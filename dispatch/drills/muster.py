"""The muster: responders step forward, arrival is the reported position inside the fence.

A responder acknowledges and sets off from the worker page; arrival is established by the
position their phone reports (taken after the drill started, inside the point's radius,
allowing for the fix's accuracy up to :data:`MAX_SLACK_M`), either when they tap "arrived" or
by :meth:`MusterDesk.check_arrivals`, which the drill runner calls every second. A
coordinator may mark an arrival by hand, and must say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dispatch.access.roles import Actor
from dispatch.drills.clock import DrillClock
from dispatch.drills.models import (
    ArrivalHow,
    DrillChange,
    DrillKind,
    DrillStatus,
    KindError,
    ResponderStatus,
)
from dispatch.drills.planning import distance_m
from dispatch.events.workflow import Clock
from dispatch.privacy.mask import mask_phone
from dispatch.store.drills import DrillStore, StepBackError
from dispatch.workers.positions import PositionBook, Seen

MAX_SLACK_M = 30.0  # a fix's accuracy counts in the responder's favour up to this
MIN_REASON = 4


class GeofenceError(ValueError):
    """An arrival the reported position does not bear out."""

    def __init__(self, worker_id: str, message: str, *, distance: float | None = None) -> None:
        super().__init__(f"worker {worker_id!r}: {message}")
        self.worker_id, self.distance = worker_id, distance


class ReasonError(ValueError):
    def __init__(self, value: str) -> None:
        super().__init__(f"reason: an override needs a reason of at least {MIN_REASON} "
                         f"characters, got {value!r}")
        self.value = value


@dataclass
class MusterDesk:
    store: DrillStore
    positions: PositionBook
    roster: Any  # .many(ids) → workers (phones, names, grids)
    clock: Clock
    _moves: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def respond(self, drill_id: str, step: ResponderStatus, *, actor: Actor) -> float:
        """A responder's own step; "arrived" only where their last position is in the fence."""
        header = self._muster(drill_id)
        if step is ResponderStatus.ARRIVED:
            seen = self.positions.of([actor.name]).get(actor.name)
            point = self._point(header, drill_id, actor.name)
            dist = self._inside(actor.name, seen, point, header)
            assert seen is not None  # _inside refuses a missing position
            return self.store.step(drill_id, actor.name, target=step.value,
                                   now=self.clock.now(), actor=actor.name,
                                   role=actor.role.value, how=ArrivalHow.GEOFENCE.value,
                                   lon=seen.lon, lat=seen.lat, dist_m=dist)
        return self.store.step(drill_id, actor.name, target=step.value, now=self.clock.now(),
                               actor=actor.name, role=actor.role.value)

    def override(self, drill_id: str, worker_id: str, *, reason: str, actor: Actor) -> float:
        """A coordinator marks an arrival the position does not show (GPS lost, indoors)."""
        if len(reason.strip()) < MIN_REASON:
            raise ReasonError(reason)
        self._muster(drill_id)
        seen = self.positions.of([worker_id]).get(worker_id)
        return self.store.step(drill_id, worker_id, target=ResponderStatus.ARRIVED.value,
                               now=self.clock.now(), actor=actor.name, role=actor.role.value,
                               how=ArrivalHow.OVERRIDE.value, reason=reason.strip(),
                               lon=seen.lon if seen else None, lat=seen.lat if seen else None)

    def check_arrivals(self, drill_id: str, *, actor: Actor) -> list[str]:
        """Mark everyone inside their fence as arrived; record moved positions for the replay."""
        header = self._muster(drill_id)
        if header["status"] != DrillStatus.RUNNING.value:
            return []
        states = self.store.responders(drill_id)
        away = [w for w, s in states.items() if s != ResponderStatus.ARRIVED.value]
        seen = self.positions.of(away) if away else {}
        self._sample(drill_id, seen, actor=actor)
        points, pts = self.store.points_of(drill_id), _points(header)
        arrived = []
        for worker_id, pos in seen.items():
            point = pts[points.get(worker_id, 0)]
            try:
                dist = self._inside(worker_id, pos, point, header)
            except GeofenceError:
                continue
            try:
                self.store.step(drill_id, worker_id, target=ResponderStatus.ARRIVED.value,
                                now=self.clock.now(), actor=actor.name, role=actor.role.value,
                                how=ArrivalHow.GEOFENCE.value, lon=pos.lon, lat=pos.lat,
                                dist_m=dist)
            except StepBackError:  # the responder's own tap or an override came first
                continue
            arrived.append(worker_id)
        return arrived

    def board(self, drill_id: str) -> list[dict[str, Any]]:
        """Every responder: status, point, last position and its age, phone masked; those
        not yet arrived first, the least advanced first."""
        header = self._muster(drill_id)
        states = self.store.responders(drill_id)
        points, pts = self.store.points_of(drill_id), _points(header)
        seen = self.positions.of(list(states))
        people = {w.id: w for w in self.roster.many(list(states))}
        rows = []
        for worker_id, status in states.items():
            w, pos = people.get(worker_id), seen.get(worker_id)
            point = pts[points.get(worker_id, 0)]
            rows.append({
                "worker": worker_id, "name": w.name if w else "", "phone": mask_phone(
                    w.phone) if w else "", "role": w.role.value if w else "",
                "grid": w.grid if w else "", "status": status, "point": points.get(worker_id, 0),
                "position": _position(pos, point),
            })
        order = {s.value: i for i, s in enumerate(ResponderStatus)}
        return sorted(rows, key=lambda r: (order[r["status"]] == len(order) - 1,
                                           order[r["status"]], r["worker"]))

    # --- helpers -------------------------------------------------------------------------
    def _muster(self, drill_id: str) -> dict[str, str]:
        header = self.store.header(drill_id)
        if header["kind"] != DrillKind.MUSTER.value:
            raise KindError(drill_id, header["kind"], DrillKind.MUSTER)
        return header

    def _point(self, header: dict[str, str], drill_id: str, worker_id: str) -> dict[str, Any]:
        return _points(header)[self.store.point_of(drill_id, worker_id)]

    def _inside(self, worker_id: str, seen: Seen | None, point: dict[str, Any],
                header: dict[str, str]) -> float:
        if seen is None:
            raise GeofenceError(worker_id, "no position reported; share your position first")
        started = DrillClock.of(header).started_at or 0.0
        if self.clock.now() - seen.age_s < started:
            raise GeofenceError(worker_id, "the last position was taken before the drill "
                                "started; share your position again")
        dist = distance_m(seen.lon, seen.lat, point["lon"], point["lat"])
        if dist > point["radius_m"] + min(seen.accuracy_m, MAX_SLACK_M):
            raise GeofenceError(worker_id, f"{dist:.0f} m from {point['name']}, outside its "
                                f"{point['radius_m']:.0f} m fence", distance=dist)
        return dist

    def _sample(self, drill_id: str, seen: dict[str, Seen], *, actor: Actor) -> None:
        """Positions that moved since the last sample, as one entry (the replay's track)."""
        last = self._moves.setdefault(drill_id, {})
        moved = {w: (round(p.lon, 6), round(p.lat, 6)) for w, p in seen.items()
                 if last.get(w) != (round(p.lon, 6), round(p.lat, 6))}
        if not moved:
            return
        last.update(moved)
        self.store.append(drill_id, DrillChange.POSITIONS.value, now=self.clock.now(),
                          actor=actor.name, role=actor.role.value,
                          fields={"items": orjson.dumps(
                              [[w, lon, lat] for w, (lon, lat) in moved.items()]).decode()})


def _points(header: dict[str, str]) -> Sequence[dict[str, Any]]:
    return orjson.loads(header.get("points") or "[]") or [
        {"name": "", "lon": 0.0, "lat": 0.0, "radius_m": 0.0}]


def _position(pos: Seen | None, point: dict[str, Any]) -> dict[str, Any] | None:
    if pos is None:
        return None
    return {"lon": pos.lon, "lat": pos.lat, "age_s": round(pos.age_s, 1),
            "stale": pos.stale, "to_point_m": round(distance_m(
                pos.lon, pos.lat, point["lon"], point["lat"]))}
