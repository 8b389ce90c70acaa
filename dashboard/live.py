"""The only Socket.IO emitter: one stream reader per process, coalesced deltas per room.

Every process tails the ``changes`` stream itself, so an event stored through any process
reaches the screens of every process. Changes are gathered for a tick (250 ms) and sent as
one delta per room: the whole district, and each street. A delta carries ``seq`` (the stream
id it brings the client up to) and ``prev`` (the last seq this room was sent), so a client
can tell a gap and ask for what it missed; a client that (re)connects with ``since`` gets
exactly the changes after it, or a snapshot when those are gone.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room
from socketio.exceptions import ConnectionRefusedError as Refused

from dashboard.live_drills import install_drills
from dashboard.live_workers import PositionFeed, install_tasks, push_tasks, task_entries, task_views
from dispatch.access.credentials import AuthError
from dispatch.access.policy import AccessDenied, Forbidden, Permission, Unauthenticated, require
from dispatch.access.roles import Actor
from dispatch.access.scope import Reach, Scope
from dispatch.events.models import ChangeKind, Status
from dispatch.events.service import LIVE_HASH_FIELDS, live_view
from dispatch.store.auth import token_digest
from dispatch.store.errors import OUTAGE_ERRORS, outage_message
from geo.crs import CoordSystem, point_from_wgs84

log = logging.getLogger(__name__)
NAMESPACE = "/live"
DISTRICT = "district"
SNAPSHOT_LIMIT = 5000
#: What a delta keeps of each change: the event's state travels in ``events``, the full
#: record (actor, role, time, reason) stays in the stream and the event's timeline.
CHANGE_KEYS = ("kind", "id", "before", "after", "tier", "count", "task", "worker")
#: Pause between tries while Redis is away: short enough to resume within a second of its
#: return, long enough not to spin.
RETRY_S = 0.5

_REVOKED = ChangeKind.TOKEN_REVOKED.value


def street_room(code: str) -> str:
    return f"street:{code}"


@dataclass
class LiveHub:
    """Tails the change stream and fans out deltas; also answers catch-up requests."""

    socketio: SocketIO
    runtime: object
    tick_s: float = 0.25
    _prev: dict[str, str] = field(default_factory=dict)
    _start: str = "0-0"
    _outbox: queue.Queue = field(default_factory=queue.Queue)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _send_outage: _Outage = field(default_factory=lambda: _Outage("sending a delta"))
    #: sid → digest of the token a websocket connected with, to close it on revocation
    _tokens: dict[str, str] = field(default_factory=dict)
    _tokens_lock: threading.Lock = field(default_factory=threading.Lock)

    def bind(self, sid: str, digest: str) -> None:
        with self._tokens_lock:
            if len(self._tokens) > 10_000:  # forget sockets that have gone
                self._tokens = {s: d for s, d in self._tokens.items() if self._connected(s)}
            self._tokens[sid] = digest

    def close_revoked(self, entries: list) -> int:
        """Disconnect every websocket of a token the stream says was revoked."""
        revoked = {f.get("token") for _, f in entries if f.get("kind") == _REVOKED}
        if not revoked or self.socketio is None:
            return 0
        with self._tokens_lock:
            doomed = [sid for sid, digest in self._tokens.items() if digest in revoked]
            for sid in doomed:
                del self._tokens[sid]
        for sid in doomed:
            self.socketio.server.disconnect(sid, namespace=NAMESPACE)
        if doomed:
            log.info("live feed: closed %d websocket(s) of a revoked token", len(doomed))
        return len(doomed)

    # --- what the position feed asks of the rooms ---------------------------------------
    district = DISTRICT
    namespace = NAMESPACE

    @staticmethod
    def street_room(code: str) -> str:
        return street_room(code)

    def listened(self, room: str) -> bool:
        return self.socketio is not None and self._listeners(room)

    def _connected(self, sid: str) -> bool:
        return bool(self.socketio.server.manager.is_connected(sid, NAMESPACE))

    # --- catch-up --------------------------------------------------------------------
    def snapshot(self, *, street: str | None = None) -> dict:
        reader = self.runtime.store.changes_reader
        seq = reader.head()
        store = self.runtime.store.events
        now = self.runtime.clock.now()
        views = [self._placed(live_view(h, now=now)) for h in store.get_many(
            store.ids_where(street=street, limit=SNAPSHOT_LIMIT))]
        return {"kind": "snapshot", "seq": seq, "prev": seq, "changes": [],
                "events": [v for v in views if Status(v["status"]).open]}

    def since(self, seq: str, *, street: str | None = None) -> dict:
        """Exactly the changes after ``seq`` (as one delta), or a snapshot when trimmed."""
        reader = self.runtime.store.changes_reader
        if not reader.held(seq):
            return self.snapshot(street=street)
        entries = [(sid, f) for sid, f in reader.after(seq) if f.get("kind") != _REVOKED]
        if street:
            entries = [(sid, f) for sid, f in entries if f.get("street") == street]
        head = entries[-1][0] if entries else max(seq, reader.head(), key=_key)
        return self._delta(entries, prev=seq, seq=head)

    # --- the tail loop --------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="live-hub", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        """Read the stream continuously; hand what a tick gathered to the sender thread.

        Reading and sending overlap, so a slow send never delays the next tick's reading,
        and ticks stay on a fixed 250 ms beat. A Redis outage only pauses the loop: it
        reads on from the last entry it got once Redis answers again, so nothing is skipped.
        """
        reader = self.runtime.store.changes_reader
        outage = _Outage("reading the change stream")
        position = self._start = self._head(reader, outage)
        threading.Thread(target=self._send_loop, name="live-send", daemon=True).start()
        pending: list = []
        flush_at = time.monotonic() + self.tick_s
        while not self._stop.is_set():
            try:
                block = max(1, int((flush_at - time.monotonic()) * 1000))
                got = reader.wait(position, block_ms=block)
            except Exception as exc:  # a dropped Redis connection must not kill the feed
                if self._stop.is_set():
                    break
                outage.failed(exc)
                self._stop.wait(RETRY_S)
                continue
            outage.over()
            if got:
                pending += got
                position = got[-1][0]
            if time.monotonic() >= flush_at:
                if pending:
                    self._outbox.put(pending)
                    pending = []
                flush_at = max(flush_at + self.tick_s, time.monotonic())

    def _head(self, reader, outage: _Outage) -> str:
        """Where the tail starts; waits for Redis if it is away when the process starts."""
        while not self._stop.is_set():
            try:
                head = reader.head()
            except Exception as exc:
                outage.failed(exc)
                self._stop.wait(RETRY_S)
                continue
            outage.over()
            return head
        return "0-0"

    def _send_loop(self) -> None:
        held: list = []  # read but not yet sent: Redis went away while shaping the delta
        while not self._stop.is_set():
            try:
                entries = held + self._outbox.get(timeout=0.5)
            except queue.Empty:
                if not held:
                    continue
                entries = held
            while not self._outbox.empty():  # behind? send what is queued as one delta
                entries += self._outbox.get_nowait()
            held = self._send(entries)

    def _send(self, entries: list) -> list:
        """Send one delta per room; returns what must be tried again (a store outage)."""
        try:
            self._broadcast(entries)
        except OUTAGE_ERRORS as exc:
            self._send_outage.failed(exc)
            self._stop.wait(RETRY_S)
            return entries
        except Exception:
            log.exception("live feed: sending a delta failed")
        self._send_outage.over()
        return []

    def _broadcast(self, entries: list) -> None:
        """Reads every changed event first, so a failed read leaves no room marked as sent."""
        self.close_revoked(entries)
        by_room: dict[str, list] = defaultdict(list)
        for sid, fields in entries:
            if fields.get("kind") == _REVOKED:  # for the processes, not for the screens
                continue
            by_room[DISTRICT].append((sid, fields))
            if fields.get("street"):
                by_room[street_room(fields["street"])].append((sid, fields))
        heard = {room for room in by_room if self._listeners(room)}
        views = self._views(entries) if heard else {}  # each changed event read once a tick
        tasks = task_views(self.runtime, entries)
        for room, items in by_room.items():
            seq = items[-1][0]
            prev = self._prev.get(room, self._start)
            self._prev[room] = seq
            if room in heard:
                delta = self._delta(items, prev=prev, seq=seq, views=views, tasks=tasks)
                self.socketio.emit("delta", delta, to=room, namespace=NAMESPACE)
        push_tasks(self.socketio, entries, tasks)

    def _listeners(self, room: str) -> bool:
        rooms = self.socketio.server.manager.rooms.get(NAMESPACE, {})
        return bool(rooms.get(room))

    def _views(self, entries: list) -> dict[str, dict]:
        ids = list(dict.fromkeys(f["id"] for _, f in entries if f.get("id")))
        now = self.runtime.clock.now()
        rows = self.runtime.store.events.fields_many(ids, LIVE_HASH_FIELDS)
        return {h["id"]: self._placed(live_view(h, now=now)) for h in rows}

    def _placed(self, view: dict) -> dict:
        """Adds where the map draws the event (``location.map``, [lon, lat]) when the map is
        not in WGS-84: under GCJ-02 tiles the grids are shifted, and the marker with them."""
        coords = self.runtime.display_coords
        if coords is not CoordSystem.WGS84:
            loc = view["location"]
            x, y = point_from_wgs84(loc["lon"], loc["lat"], coords)
            loc["map"] = [round(x, 7), round(y, 7)]
        return view

    def _delta(self, entries: list, *, prev: str, seq: str,
               views: dict[str, dict] | None = None,
               tasks: dict[str, dict] | None = None) -> dict:
        views = views if views is not None else self._views(entries)
        tasks = tasks if tasks is not None else task_views(self.runtime, entries)
        ids = dict.fromkeys(f["id"] for _, f in entries if f.get("id"))
        task_ids = dict.fromkeys(f["task"] for _, f in task_entries(entries) if f.get("task"))
        changes = [{"seq": sid, **{k: f[k] for k in CHANGE_KEYS if f.get(k)}}
                   for sid, f in entries]
        return {"kind": "delta", "seq": seq, "prev": prev, "changes": changes,
                "events": [views[i] for i in ids if i in views],
                "tasks": [tasks[t] for t in task_ids if t in tasks]}


class SeqError(ValueError):
    """A ``since`` that is not a stream id this server could have handed out."""

    def __init__(self, value: object) -> None:
        super().__init__(f"since {str(value)[:40]!r} is not a stream id like 1700000000000-0")
        self.value = value


_SEQ = re.compile(r"^(\d{1,20})-(\d{1,20})$")
_U64 = 2**64 - 1


def checked_seq(value: object) -> str:
    """``value`` as a stream id, or SeqError: Redis refuses ids past 64 bits per part."""
    match = _SEQ.match(str(value))
    if not match or int(match[1]) > _U64 or int(match[2]) > _U64:
        raise SeqError(value)
    return str(value)


def _key(sid: str) -> tuple[int, int]:
    ms, _, n = sid.partition("-")
    return int(ms), int(n or 0)


def install(socketio: SocketIO, runtime) -> LiveHub:
    """Register the /live namespace handlers and start this process's hub."""
    hub = LiveHub(socketio=socketio, runtime=runtime)

    @handler(socketio, "connect", permission=Permission.LIVE_READ)
    def on_connect(auth=None):
        auth = auth if isinstance(auth, dict) else {}
        try:
            actor = _identify(runtime, auth)
            scope = require(actor, Permission.LIVE_READ)
            street = feed_street(actor, scope, auth.get("street") or None)
            _welcome(socketio, hub, street=street, since=auth.get("since"))
            if auth.get("token"):
                hub.bind(request.sid, token_digest(str(auth["token"])))
        except AccessDenied as exc:
            raise Refused(f"unauthorized: {exc}", {"error": "unauthorized"}) from exc
        except SeqError as exc:
            raise Refused(str(exc), {"error": "invalid", "field": "since"}) from exc
        except OUTAGE_ERRORS as exc:
            raise Refused(outage_message(exc), {"error": "unavailable"}) from exc

    install_tasks(socketio, runtime, _identify)
    install_drills(socketio, runtime, _identify)
    hub.start()
    runtime.on_close(hub.stop)
    positions = PositionFeed(socketio=socketio, runtime=runtime, rooms=hub)
    positions.start()
    runtime.on_close(positions.stop)
    return hub


def handler(socketio: SocketIO, event: str, *, permission: Permission,
            namespace: str = NAMESPACE) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``socketio.on`` that records the permission the handler asks for, so the access
    table lists every Socket.IO event (a handler registered without it has no entry)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        SOCKET_PERMISSIONS[(namespace, event)] = permission
        return socketio.on(event, namespace=namespace)(fn)

    return register


#: (namespace, event) → the permission its handler asks for.
SOCKET_PERMISSIONS: dict[tuple[str, str], Permission] = {}


def feed_street(actor: Actor, scope: Scope, asked: str | None) -> str | None:
    """The street whose feed a client gets (``None``: the district's), held to its scope."""
    if scope.reach is Reach.DISTRICT:
        return asked
    if scope.reach is Reach.STREET:
        if asked is None and len(scope.codes) == 1:
            return next(iter(scope.codes))
        if asked in scope.codes:
            return asked
        raise Forbidden(f"the live feed of {asked or 'the district'} is outside your scope "
                        f"({scope}); ask for one of your streets", permission=Permission.LIVE_READ,
                        actor=actor)
    raise Forbidden(f"the live feed is per street or district, not for a grid scope ({scope})",
                    permission=Permission.LIVE_READ, actor=actor)


def _welcome(socketio: SocketIO, hub: LiveHub, *, street: str | None, since: object) -> None:
    """Join the client's room and send it what it lacks: a snapshot, or the changes since."""
    if since:
        since = checked_seq(since)
    join_room(street_room(street) if street else DISTRICT)
    first = hub.since(str(since), street=street) if since else hub.snapshot(street=street)
    socketio.emit(first["kind"], first, to=request.sid, namespace=NAMESPACE)


class _Outage:
    """Logs a Redis outage once when it starts and once when it ends, not once a retry."""

    def __init__(self, doing: str) -> None:
        self.doing = doing
        self.since: float | None = None

    def failed(self, exc: Exception) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("live feed: %s failed (%s: %s); retrying every %.1f s", self.doing,
                        type(exc).__name__, exc, RETRY_S, exc_info=not _is_outage(exc))

    def over(self) -> None:
        if self.since is not None:
            log.info("live feed: %s works again after %.1f s", self.doing,
                     time.monotonic() - self.since)
            self.since = None


def _is_outage(exc: Exception) -> bool:
    return isinstance(exc, OUTAGE_ERRORS)


def _identify(runtime, auth: dict) -> Actor | None:
    """The token's holder, else the signed-in page user, else nobody (refused by the policy)."""
    token = auth.get("token")
    if token:
        try:
            return runtime.auth.from_token(str(token))
        except AuthError as exc:
            raise Unauthenticated(str(exc), permission=Permission.LIVE_READ) from exc
    if current_user.is_authenticated:  # not bool(current_user): that hides a StoreError
        return current_user.actor
    return None
