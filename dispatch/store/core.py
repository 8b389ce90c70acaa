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
from typing import TYPE_CHECKING, Any, cast

import redis
from redis.typing import EncodableT, FieldT

from dispatch.events.models import ChangeKind
from dispatch.store import keys
from dispatch.store.errors import StoreError
from dispatch.store.keys import CHANGES, GRIDS_ACTIVE, LAYOUT

if TYPE_CHECKING:
    # Reply shapes that recent redis-py names; older releases lack them (not run-time imports).
    from redis.typing import StreamRangeResponse, XReadResponse, ZSetRangeResponse

    from dispatch.store.auth import AuthStore, SignInFailures
    from dispatch.store.events import EventStore
    from dispatch.store.stream import ChangeReader

LAYOUT_VERSION = "2"  # 2: index scores in whole milliseconds


#: One stream entry as read: (id, fields).
Entry = tuple[str, dict[str, str]]


# --- typed replies -------------------------------------------------------------------------
# redis-py types every reply for both of its modes (``bytes | str``), and a few as optional
# where the command never answers nil. Every client here is made with
# ``decode_responses=True`` (``Store.from_url``), so replies are str: these helpers say so in
# one place. They only narrow the static type; nothing is converted at run time.


def as_texts(reply: list[bytes | str | None]) -> list[str | None]:
    """HMGET: one value per field asked, None where the field is missing."""
    return cast("list[str | None]", reply)  # decoded: str, never bytes


def as_hash(reply: dict[bytes | str, bytes | str]) -> dict[str, str]:
    """HGETALL: field → value ({} for a missing key)."""
    return cast("dict[str, str]", reply)  # decoded: str keys and values


def as_members(reply: set[bytes | str]) -> set[str]:
    """SMEMBERS."""
    return cast("set[str]", reply)  # decoded: str members


def as_ids(reply: ZSetRangeResponse) -> list[str]:
    """ZRANGEBYSCORE, ZREVRANGEBYSCORE without WITHSCORES: the members alone."""
    return cast("list[str]", reply)  # no WITHSCORES, decoded: a list of str


def as_entries(reply: StreamRangeResponse | None) -> list[Entry]:
    """XRANGE, XREVRANGE: always a list (empty for a missing stream), ids and fields set."""
    return cast("list[Entry]", reply)  # never nil; entries in range are whole; decoded


def as_stream_reads(reply: XReadResponse) -> list[tuple[str, list[Entry]]]:
    """XREAD over RESP2 (redis-py's default): [stream name, entries] per stream that had any."""
    return cast("list[tuple[str, list[Entry]]]", reply)  # RESP2 list form, decoded


def as_fields(mapping: Mapping[str, str]) -> dict[FieldT, EncodableT]:
    """A copy of ``mapping`` for HSET/XADD, whose field maps redis-py types with an invariant
    union key (so a ``dict[str, str]`` is refused though every str is a field)."""
    return {k: v for k, v in mapping.items()}


class Store:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @cached_property
    def events(self) -> EventStore:
        from dispatch.store.events import EventStore

        return EventStore(self._r)

    @cached_property
    def auth(self) -> AuthStore:
        from dispatch.store.auth import AuthStore

        return AuthStore(self._r)

    @cached_property
    def sign_in_failures(self) -> SignInFailures:
        from dispatch.store.auth import SignInFailures

        return SignInFailures(self._r)

    @cached_property
    def changes_reader(self) -> ChangeReader:
        from dispatch.store.stream import ChangeReader

        return ChangeReader(self._r)

    def shared_secret(self) -> str:
        """One session-signing key for every web process on this Redis, made on first use."""
        import secrets

        self._r.set(keys.SECRET_KEY, secrets.token_urlsafe(48), nx=True)
        # SET NX just above made it if it was missing, and it has no expiry: a str (decoded).
        return cast(str, self._r.get(keys.SECRET_KEY))

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
        key = keys.lock(name)
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
        return self._change(ChangeKind.GRIDS_LOADED, actor=actor, details=summary,
                            hset=(GRIDS_ACTIVE, fields), replace=True)

    def active_grid_set(self) -> dict[str, Any]:
        raw = as_hash(self._r.hgetall(GRIDS_ACTIVE))
        return {k: json.loads(v) for k, v in raw.items()}

    def changes(self, *, count: int = 100) -> list[dict[str, Any]]:
        """The latest changes, newest first (for audit views and tests)."""
        return [
            {"id": entry_id, **{k: v for k, v in fields.items() if k != "details"},
             "details": json.loads(fields.get("details", "null"))}
            for entry_id, fields in as_entries(self._r.xrevrange(CHANGES, count=count))
        ]

    def _change(self, kind: ChangeKind, *, actor: str, details: Mapping[str, Any],
                hset: tuple[str, Mapping[str, str]] | None = None, replace: bool = False) -> str:
        entry: dict[FieldT, EncodableT] = {
            "kind": kind.value,
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
                    pipe.hset(key, mapping=as_fields(mapping))
                pipe.xadd(CHANGES, entry)
                results = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"could not record {kind.value!r}: {exc}") from exc
        return results[-1]

    def close(self) -> None:
        self._r.close()
