"""The only module that talks to Redis: current state in hashes, every change in one stream.

A change is written as one stream entry (what, who, when, details) in the same MULTI/EXEC
transaction as the hash it changes, so a reader never sees one without the other and a web
process can die at any moment without losing anything acknowledged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import redis

CHANGES = "changes"  # the append-only stream of every change
GRIDS_ACTIVE = "grids:active"  # hash: the grid set this deployment serves
LAYOUT = "config:layout"  # version of the key layout the data is in
LAYOUT_VERSION = "2"  # 2: index scores in whole milliseconds


class StoreError(RuntimeError):
    """Redis could not be reached or refused the operation."""


class Store:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @cached_property
    def events(self):
        from dispatch.store.events import EventStore

        return EventStore(self._r)

    @cached_property
    def auth(self):
        from dispatch.store.auth import AuthStore

        return AuthStore(self._r)

    @cached_property
    def changes_reader(self):
        from dispatch.store.stream import ChangeReader

        return ChangeReader(self._r)

    def shared_secret(self) -> str:
        """One session-signing key for every web process on this Redis, made on first use."""
        import secrets

        self._r.set("config:secret_key", secrets.token_urlsafe(48), nx=True)
        return self._r.get("config:secret_key")

    def upgrade_layout(self) -> int:
        """Bring data from an older version to this key layout; returns entries changed."""
        if self._r.get(LAYOUT) == LAYOUT_VERSION:
            return 0
        from dispatch.store import lua

        try:
            return int(self._r.eval(lua.UPGRADE_SCORES, 1, LAYOUT, LAYOUT_VERSION))
        except redis.RedisError as exc:
            raise StoreError(f"could not upgrade the stored data: {exc}") from exc

    def hold_lock(self, name: str, *, owner: str, ttl_ms: int) -> bool:
        """Take or keep a named lease; True while ``owner`` holds it (one escalator at a time)."""
        key = f"lock:{name}"
        if self._r.set(key, owner, nx=True, px=ttl_ms):
            return True
        if self._r.get(key) == owner:
            self._r.pexpire(key, ttl_ms)
            return True
        return False

    def flush_all(self) -> None:
        """Empty the database (tests and `demo --reset` only)."""
        self._r.flushdb()

    @classmethod
    def from_url(cls, url: str) -> Store:
        # Bounded waits: a hung Redis turns into a 503 within seconds instead of stalling
        # every request thread (a 1,000-event batch script takes well under a second).
        return cls(redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                        socket_connect_timeout=2, socket_timeout=5))

    def ping(self) -> bool:
        try:
            return bool(self._r.ping())
        except redis.RedisError:
            return False

    def server_info(self) -> dict[str, Any]:
        info = self._r.info("server") | self._r.info("persistence")
        return {k: info.get(k) for k in ("redis_version", "aof_enabled", "tcp_port")}

    def record_grid_set(self, summary: Mapping[str, Any], *, actor: str) -> str:
        """Make ``summary`` the active grid set; returns the stream id of the change."""
        fields = {k: json.dumps(v, ensure_ascii=False) for k, v in summary.items()}
        return self._change("grids.loaded", actor=actor, details=summary,
                            hset=(GRIDS_ACTIVE, fields), replace=True)

    def active_grid_set(self) -> dict[str, Any]:
        raw = self._r.hgetall(GRIDS_ACTIVE)
        return {k: json.loads(v) for k, v in raw.items()}

    def changes(self, *, count: int = 100) -> list[dict[str, Any]]:
        """The latest changes, newest first (for audit views and tests)."""
        return [
            {"id": entry_id, **{k: v for k, v in fields.items() if k != "details"},
             "details": json.loads(fields.get("details", "null"))}
            for entry_id, fields in self._r.xrevrange(CHANGES, count=count)
        ]

    def _change(self, kind: str, *, actor: str, details: Mapping[str, Any],
                hset: tuple[str, Mapping[str, str]] | None = None, replace: bool = False) -> str:
        entry = {
            "kind": kind,
            "actor": actor,
            "at": f"{time.time():.3f}",
            "details": json.dumps(details, ensure_ascii=False),
        }
        try:
            with self._r.pipeline(transaction=True) as pipe:
                if hset is not None:
                    key, mapping = hset
                    if replace:
                        pipe.delete(key)
                    pipe.hset(key, mapping=dict(mapping))
                pipe.xadd(CHANGES, entry)
                results = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"could not record {kind!r}: {exc}") from exc
        return results[-1]

    def close(self) -> None:
        self._r.close()
