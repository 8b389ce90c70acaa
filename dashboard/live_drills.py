"""Drills on the live feed: ``/drills``, a room for every drill and one for the watermark.

Every page that may show a drill joins ``drills`` and hears, each second, which drills are
running with their clocks (the header's countdown and the "演练 DRILL" watermark). The drill
screen also joins ``drill/<id>`` and hears, twice a second, what that drill's own stream
gained: responders' steps and positions, micro-grids' swept counts, help raised, the clock
and the progress. Each message carries the server's time, so every screen counts down from
the same clock, and the last entry id it covers (``seq``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from flask import request
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from dashboard.live_workers import TASKS_NAMESPACE, worker_room
from dispatch.access.policy import AccessDenied, Permission, require
from dispatch.drills.models import DrillChange
from dispatch.drills.service import drill_view
from dispatch.store.errors import OUTAGE_ERRORS, outage_message
from geo.crs import CoordSystem, point_from_wgs84

log = logging.getLogger(__name__)
NAMESPACE = "/drills"
ALL_ROOM = "drills"
EVERY_S = 0.5
SUMMARY_EVERY_S = 1.0


def drill_room(drill_id: str) -> str:
    return f"drill/{drill_id}"


@dataclass
class DrillFeed:
    socketio: SocketIO
    runtime: Any
    every_s: float = EVERY_S
    _after: dict[str, str] = field(default_factory=dict)
    _summary_at: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="live-drills", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.tick()
            except OUTAGE_ERRORS:
                continue
            except Exception:
                log.exception("drill feed: a tick failed")

    def tick(self) -> int:
        """One look at every live drill (and any that just ended): returns messages sent."""
        store = self.runtime.drill_store
        live = store.live_ids()
        for drill_id in live - set(self._after):  # screens load the rest whole
            self._after[drill_id] = store.head(drill_id)
        sent = 0
        watched = set(self._after)
        got = dict(store.wait({d: self._after[d] for d in watched}, block_ms=1)) if watched else {}
        now = self.runtime.clock.now()
        for drill_id in sorted(watched):
            entries = got.get(drill_id, [])
            ended = drill_id not in live
            if entries:
                self._after[drill_id] = entries[-1][0]
            if (entries or ended) and self._listened(drill_room(drill_id)):
                self.socketio.emit("drill", self.delta(drill_id, entries, now=now),
                                   to=drill_room(drill_id), namespace=NAMESPACE)
                sent += 1
            if any(f.get("kind") == DrillChange.MOVED for _, f in entries):
                sent += self._tell_responders(drill_id, now=now)
            if ended:
                del self._after[drill_id]
        if time.monotonic() - self._summary_at >= SUMMARY_EVERY_S:
            self._summary_at = time.monotonic()
            if self._listened(ALL_ROOM):
                self.socketio.emit("drills", self.summary(now=now), to=ALL_ROOM,
                                   namespace=NAMESPACE)
                sent += 1
        return sent

    def _tell_responders(self, drill_id: str, *, now: float) -> int:
        """A muster's start, pause or end reaches each responder's page at once."""
        store = self.runtime.drill_store
        view = drill_view(store.header(drill_id), now=now)
        responders = store.responders(drill_id)
        for worker_id in responders:
            self.socketio.emit("drill", view, to=worker_room(worker_id),
                               namespace=TASKS_NAMESPACE)
        return len(responders)

    def summary(self, *, now: float) -> dict[str, Any]:
        store = self.runtime.drill_store
        views = [drill_view(h, now=now) for h in store.headers(sorted(store.live_ids()))]
        return {"server_now": round(now, 3), "drills": views}

    def delta(self, drill_id: str, entries: list, *, now: float) -> dict[str, Any]:
        """What a drill screen applies: the view, steps, positions, swept counts, help."""
        store = self.runtime.drill_store
        out: dict[str, Any] = {"drill": drill_view(store.header(drill_id), now=now),
                               "seq": entries[-1][0] if entries else None,
                               "at": [float(f["at"]) for _, f in entries[-1:]],
                               "steps": [], "positions": [], "help": [], "moves": []}
        micros: set[str] = set()
        for _, f in entries:
            kind = f.get("kind")
            if kind == DrillChange.STEP:
                out["steps"].append([f["worker"], f["after"], f.get("how", ""), f["t"],
                                     *self._where(f)])
            elif kind == DrillChange.POSITIONS:
                out["positions"] += [self._placed(i) for i in orjson.loads(f["items"])]
            elif kind == DrillChange.SWEPT:
                micros.update(i[0][:17] for i in orjson.loads(f["items"]))
            elif kind == DrillChange.HELP:
                out["help"].append([f["household"], f["event"]])
            elif kind == DrillChange.MOVED:
                out["moves"].append([f["action"], f["t"]])
        if micros:
            swept = store.swept_of(drill_id, sorted(micros))
            out["swept"] = swept
        return out

    def _where(self, f: dict) -> list:
        """Where a step was taken (an arrival's position), in map coordinates, if known."""
        if not f.get("lon") or not f.get("lat"):
            return [None, None]
        return self._placed(["", float(f["lon"]), float(f["lat"])])[1:]

    def _placed(self, item: list) -> list:
        coords = self.runtime.display_coords
        if coords is CoordSystem.WGS84:
            return item
        lon, lat = point_from_wgs84(item[1], item[2], coords)
        return [item[0], round(lon, 6), round(lat, 6)]

    def _listened(self, room: str) -> bool:
        rooms = self.socketio.server.manager.rooms.get(NAMESPACE, {})
        return bool(rooms.get(room))


def install_drills(socketio: SocketIO, runtime, identify) -> DrillFeed:
    """``/drills``: watchers join the summary room, and a drill's room when they name one."""
    from dashboard.live import handler

    @handler(socketio, "connect", permission=Permission.DRILL_READ, namespace=NAMESPACE)
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        try:
            actor = identify(runtime, auth)
            require(actor, Permission.DRILL_READ)
            drill_id = auth.get("drill")
            if drill_id is not None and not (isinstance(drill_id, str) and
                                             runtime.drill_store.exists(drill_id)):
                raise Refused(f"drill {str(drill_id)[:40]!r} does not exist",
                              {"error": "invalid", "field": "drill"})
        except AccessDenied as exc:
            raise Refused(f"unauthorized: {exc}", {"error": "unauthorized"}) from exc
        except OUTAGE_ERRORS as exc:
            raise Refused(outage_message(exc), {"error": "unavailable"}) from exc
        join_room(ALL_ROOM)
        now = runtime.clock.now()
        socketio.emit("drills", feed.summary(now=now), to=request.sid, namespace=NAMESPACE)
        if drill_id:
            join_room(drill_room(drill_id))
            socketio.emit("drill", feed.delta(drill_id, [], now=now), to=request.sid,
                          namespace=NAMESPACE)

    feed = DrillFeed(socketio=socketio, runtime=runtime)
    feed.start()
    runtime.on_close(feed.stop)
    return feed
