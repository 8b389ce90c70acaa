"""Workers on the live feed: each worker's own task pushes, and positions on the map.

A task change travels in the change stream like every other change; the hub hands the task
entries here and each changed task goes, whole, to its worker's own room on ``/tasks`` (and
to the leader an escalation names). Positions do not travel in the stream (746 reports a
second would drown it): every half second the feed reads which workers reported since the
last look and sends their markers to the map's rooms.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import request
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from dispatch.access.policy import AccessDenied, Permission, require
from dispatch.events.models import ChangeKind
from dispatch.store.errors import OUTAGE_ERRORS, outage_message
from dispatch.workers.models import DutyStatus, Worker
from dispatch.workers.roster import LOCAL_TZ, duty_at
from geo.crs import CoordSystem, point_from_wgs84
from geo.model import street_code_of

log = logging.getLogger(__name__)
TASKS_NAMESPACE = "/tasks"
_TASK_KINDS = frozenset({ChangeKind.TASK.value, ChangeKind.TASK_ESCALATED.value})
#: How often the map's worker markers are brought up to date (report → marker ≤ 1 s).
POSITIONS_EVERY_S = 0.5
ROSTER_EVERY_S = 60.0


def worker_room(worker_id: str) -> str:
    return f"inbox/{worker_id}"


def task_entries(entries: list) -> list:
    return [(sid, f) for sid, f in entries if f.get("kind") in _TASK_KINDS]


def task_views(runtime, entries: list) -> dict[str, dict]:
    """Each changed task read once, as it is now."""
    ids = list(dict.fromkeys(f["task"] for _, f in task_entries(entries) if f.get("task")))
    return {t["id"]: t for t in runtime.tasks.views_of(ids)} if ids else {}


def push_tasks(socketio: SocketIO, entries: list, views: dict[str, dict]) -> int:
    """Each changed task to its worker's room, and an escalation to the leader it names."""
    sent = 0
    for _, f in task_entries(entries):
        view = views.get(f.get("task", ""))
        if view is None:
            continue
        for who in {f.get("worker", ""), f.get("notify", "")} - {""}:
            socketio.emit("task", view, to=worker_room(who), namespace=TASKS_NAMESPACE)
            sent += 1
    return sent


def install_tasks(socketio: SocketIO, runtime, identify) -> None:
    """``/tasks``: a field worker's page joins its own room and hears its tasks."""
    from dashboard.live import handler

    @handler(socketio, "connect", permission=Permission.EVENT_HANDLE,
             namespace=TASKS_NAMESPACE)
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        try:
            actor = identify(runtime, auth)
            require(actor, Permission.EVENT_HANDLE)
        except AccessDenied as exc:
            raise Refused(f"unauthorized: {exc}", {"error": "unauthorized"}) from exc
        except OUTAGE_ERRORS as exc:
            raise Refused(outage_message(exc), {"error": "unavailable"}) from exc
        join_room(worker_room(actor.name))
        socketio.emit("hello", {"worker": actor.name}, to=request.sid,
                      namespace=TASKS_NAMESPACE)


@dataclass
class PositionFeed:
    """Sends the markers of workers who reported since the last look, twice a second."""

    socketio: SocketIO
    runtime: Any
    rooms: Any  # the hub: which rooms have listeners, and the room of a street
    every_s: float = POSITIONS_EVERY_S
    _after: int = -1  # the newest move number already sent (-1: not looked yet)
    _roster: dict[str, Worker] = field(default_factory=dict)
    _roster_at: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="live-positions", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.tick()
            except OUTAGE_ERRORS:
                continue  # Redis is away: the next look picks up where this one stopped
            except Exception:
                log.exception("live feed: sending positions failed")

    def tick(self) -> int:
        """One look: returns how many markers were sent."""
        store = self.runtime.positions.store
        if self._after < 0:  # the first look starts from now: screens load the rest whole
            self._after = store.last_move()
            return 0
        ids, newest = store.moved_since(self._after)
        self._after = newest
        if not ids:
            return 0
        markers = self.markers(ids)
        by_room: dict[str, list] = defaultdict(list)
        for street, marker in markers:
            by_room[self.rooms.district].append(marker)
            if street:
                by_room[self.rooms.street_room(street)].append(marker)
        at = int(time.time() * 1000)
        for room, items in by_room.items():
            if self.rooms.listened(room):
                self.socketio.emit("positions", {"at": at, "workers": items}, to=room,
                                   namespace=self.rooms.namespace)
        return len(markers)

    def markers(self, ids: list[str]) -> list[tuple[str, list]]:
        """(street, [id, lon, lat, accuracy m, age s, state]) for each worker, in map
        coordinates; state is the duty status, or busy with an open task."""
        roster = self._current_roster()
        seen = self.runtime.positions.of(ids)
        busy = self.runtime.task_store.open_counts(ids)
        now = datetime.fromtimestamp(self.runtime.clock.now(), LOCAL_TZ)
        coords = self.runtime.display_coords
        out = []
        for wid in ids:
            s, w = seen.get(wid), roster.get(wid)
            if s is None:
                continue
            lon, lat = s.lon, s.lat
            if coords is not CoordSystem.WGS84:
                lon, lat = point_from_wgs84(lon, lat, coords)
            state = DutyStatus.BUSY if busy.get(wid) else (duty_at(w, now) if w else
                                                             DutyStatus.OFF)
            out.append((street_code_of(w.grid) if w else "",
                        [wid, round(lon, 6), round(lat, 6), round(s.accuracy_m),
                         round(s.age_s), state.value]))
        return out

    def _current_roster(self) -> dict[str, Worker]:
        if time.monotonic() - self._roster_at > ROSTER_EVERY_S or not self._roster:
            self._roster = {w.id: w for w in self.runtime.workers.all()}
            self._roster_at = time.monotonic()
        return self._roster
