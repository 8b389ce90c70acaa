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
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from flask import request
from flask_login import current_user
from flask_socketio import SocketIO, join_room

from dispatch.auth import AuthError
from dispatch.events import LIVE_HASH_FIELDS, live_view
from dispatch.intake import Actor
from dispatch.models import Role, Status

log = logging.getLogger(__name__)
NAMESPACE = "/live"
DISTRICT = "district"
LIVE_ROLES = (Role.OPERATOR, Role.ADMIN, Role.LEADER, Role.COORDINATOR, Role.WORKER,
              Role.INTEGRATION)
SNAPSHOT_LIMIT = 5000
#: What a delta keeps of each change: the event's state travels in ``events``, the full
#: record (actor, role, time, reason) stays in the stream and the event's timeline.
CHANGE_KEYS = ("kind", "id", "before", "after", "tier", "count")


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

    # --- catch-up --------------------------------------------------------------------
    def snapshot(self, *, street: str | None = None) -> dict:
        reader = self.runtime.store.changes_reader
        seq = reader.head()
        store = self.runtime.store.events
        now = self.runtime.clock.now()
        index = f"idx:street:{street}" if street else "idx:all"
        views = [live_view(h, now=now) for h in store.get_many(
            store.ids(index, limit=SNAPSHOT_LIMIT))]
        return {"kind": "snapshot", "seq": seq, "prev": seq, "changes": [],
                "events": [v for v in views if Status(v["status"]).open]}

    def since(self, seq: str, *, street: str | None = None) -> dict:
        """Exactly the changes after ``seq`` (as one delta), or a snapshot when trimmed."""
        reader = self.runtime.store.changes_reader
        if not reader.held(seq):
            return self.snapshot(street=street)
        entries = reader.after(seq)
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
        and ticks stay on a fixed 250 ms beat.
        """
        reader = self.runtime.store.changes_reader
        position = self._start = reader.head()
        threading.Thread(target=self._send_loop, name="live-send", daemon=True).start()
        pending: list = []
        flush_at = time.monotonic() + self.tick_s
        while not self._stop.is_set():
            try:
                block = max(1, int((flush_at - time.monotonic()) * 1000))
                got = reader.wait(position, block_ms=block)
            except Exception:  # a dropped Redis connection must not kill the feed
                if self._stop.is_set():
                    break
                log.exception("live feed: reading the change stream failed; retrying")
                time.sleep(1.0)
                continue
            if got:
                pending += got
                position = got[-1][0]
            if time.monotonic() >= flush_at:
                if pending:
                    self._outbox.put(pending)
                    pending = []
                flush_at = max(flush_at + self.tick_s, time.monotonic())

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                entries = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            while not self._outbox.empty():  # behind? send what is queued as one delta
                entries += self._outbox.get_nowait()
            try:
                self._broadcast(entries)
            except Exception:
                log.exception("live feed: sending a delta failed")

    def _broadcast(self, entries: list) -> None:
        by_room: dict[str, list] = defaultdict(list)
        for sid, fields in entries:
            by_room[DISTRICT].append((sid, fields))
            if fields.get("street"):
                by_room[street_room(fields["street"])].append((sid, fields))
        views = None  # each changed event read and shaped once per tick, if anyone listens
        for room, items in by_room.items():
            seq = items[-1][0]
            prev = self._prev.get(room, self._start)
            self._prev[room] = seq
            if self._listeners(room):
                if views is None:
                    views = self._views(entries)
                delta = self._delta(items, prev=prev, seq=seq, views=views)
                self.socketio.emit("delta", delta, to=room, namespace=NAMESPACE)

    def _listeners(self, room: str) -> bool:
        rooms = self.socketio.server.manager.rooms.get(NAMESPACE, {})
        return bool(rooms.get(room))

    def _views(self, entries: list) -> dict[str, dict]:
        ids = list(dict.fromkeys(f["id"] for _, f in entries if f.get("id")))
        now = self.runtime.clock.now()
        rows = self.runtime.store.events.fields_many(ids, LIVE_HASH_FIELDS)
        return {h["id"]: live_view(h, now=now) for h in rows}

    def _delta(self, entries: list, *, prev: str, seq: str,
               views: dict[str, dict] | None = None) -> dict:
        views = views if views is not None else self._views(entries)
        ids = dict.fromkeys(f["id"] for _, f in entries if f.get("id"))
        changes = [{"seq": sid, **{k: f[k] for k in CHANGE_KEYS if f.get(k)}}
                   for sid, f in entries]
        return {"kind": "delta", "seq": seq, "prev": prev, "changes": changes,
                "events": [views[i] for i in ids if i in views]}


def _key(sid: str) -> tuple[int, int]:
    ms, _, n = sid.partition("-")
    return int(ms), int(n or 0)


def install(socketio: SocketIO, runtime) -> LiveHub:
    """Register the /live namespace handlers and start this process's hub."""
    hub = LiveHub(socketio=socketio, runtime=runtime)

    @socketio.on("connect", namespace=NAMESPACE)
    def on_connect(auth=None):
        actor = _identify(runtime, auth)
        if actor is None or actor.role not in LIVE_ROLES:
            raise ConnectionRefusedError("unauthorized: sign in or pass auth={'token': …}")
        street = (auth or {}).get("street") if isinstance(auth, dict) else None
        join_room(street_room(street) if street else DISTRICT)
        join_room(f"role:{actor.role.value}")
        since = (auth or {}).get("since") if isinstance(auth, dict) else None
        first = hub.since(str(since), street=street) if since else hub.snapshot(street=street)
        socketio.emit(first["kind"], first, to=request.sid, namespace=NAMESPACE)

    hub.start()
    runtime.on_close(hub.stop)
    return hub


def _identify(runtime, auth) -> Actor | None:
    token = auth.get("token") if isinstance(auth, dict) else None
    if token:
        try:
            return runtime.auth.from_token(str(token))
        except AuthError:
            return None
    if current_user and current_user.is_authenticated:
        return Actor(name=current_user.id, role=Role(current_user.role))
    return None
