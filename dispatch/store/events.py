"""Events in Redis: one hash per event, sorted-set indices, every change in the stream.

Writes go through the Lua scripts in :mod:`dispatch.store.lua`, so idempotency, dedupe,
the state, its indices and its stream entry change together or not at all. A batch is one
MULTI/EXEC transaction: all of it is stored, or none.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, TypeVar

import orjson
import redis

from dispatch.events.models import ESCALATION_TIERS, Outcome
from dispatch.localtime import CST
from dispatch.store import keys, lua
from dispatch.store.core import as_hash, as_ids
from dispatch.store.errors import StoreError
from dispatch.store.keys import CHANGES

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000
TOP_LEVEL = len(ESCALATION_TIERS) - 1  # the street centre: escalation stops there


@dataclass(frozen=True, slots=True)
class NewEvent:
    """What the store needs to create one event (already validated and located)."""

    fields: dict[str, str]  # every hash field, as strings
    created: float
    due: float | None
    actor: str
    role: str
    idempotency_key: str = ""
    dedupe_key: str = ""
    dedupe_window_ms: int = 0


@dataclass(frozen=True, slots=True)
class Created:
    id: str
    outcome: Outcome


class EventNotFoundError(KeyError):
    def __init__(self, event_id: str) -> None:
        super().__init__(event_id)
        self.event_id = event_id

    def __str__(self) -> str:
        return f"event {self.event_id!r} does not exist"


class StaleStatusError(RuntimeError):
    """The event left the expected status before the move was written."""

    def __init__(self, event_id: str, current: str) -> None:
        super().__init__(f"event {event_id!r} is now {current!r}")
        self.event_id = event_id
        self.current = current


#: What the create script answers for each item (see ``lua.CREATE_MANY``).
_OUTCOME = {1: Outcome.CREATED, 0: Outcome.REPEAT, 2: Outcome.FOLDED}

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guard(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Reads fail as StoreError (HTTP 503), never as a raw client error."""

    @functools.wraps(method)
    def inner(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreError(f"{method.__name__}: {exc}") from exc

    return inner


class EventStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._create = client.register_script(lua.CREATE_MANY)
        self._transition = client.register_script(lua.TRANSITION)
        self._escalate = client.register_script(lua.ESCALATE)

    # --- writes -------------------------------------------------------------------------
    def create(self, event: NewEvent) -> Created:
        return self.create_many([event])[0]

    def create_many(self, events: Sequence[NewEvent]) -> list[Created]:
        """Store a batch in one atomic script: every event or none."""
        if not events:
            return []
        first = events[0]
        if any(ev.actor != first.actor or ev.role != first.role for ev in events):
            raise ValueError("one batch is stored for one actor; split mixed batches")
        payload = orjson.dumps([first.actor, first.role, str(IDEMPOTENCY_TTL_MS),
                                [_item(ev) for ev in events]])
        try:
            results = self._create(keys=[CHANGES], args=[payload])
        except redis.RedisError as exc:
            raise StoreError(f"could not store {len(events)} event(s): {exc}") from exc
        return [Created(id=_text(r[1]), outcome=_OUTCOME[int(r[0])]) for r in results]

    def transition(self, event_id: str, *, expected: str, target: str, now: float,
                   due: float | None, actor: str, role: str, reason: str = "",
                   extra: dict[str, str] | None = None) -> int:
        """Move an event if it is still in ``expected``; returns its new revision."""
        names = [keys.event(event_id), CHANGES, keys.status_index(expected),
                 keys.status_index(target), keys.DUE_INDEX]
        args = [expected, target, _num(now), "" if due is None else _num(due), actor, role,
                reason, json.dumps(extra or {}, ensure_ascii=False), event_id, score(now),
                "" if due is None else score(due)]
        try:
            ok, value = self._transition(keys=names, args=args)
        except redis.RedisError as exc:
            raise StoreError(f"could not move event {event_id!r}: {exc}") from exc
        if ok == -1:
            raise EventNotFoundError(event_id)
        if ok == 0:
            raise StaleStatusError(event_id, _text(value))
        return int(value)

    def escalate(self, event_id: str, *, status: str, entered: str, level: int, tier: str,
                 now: float) -> bool:
        return bool(self._escalate(
            keys=[keys.event(event_id), CHANGES, keys.DUE_INDEX],
            args=[status, entered, level, tier, _num(now), event_id, TOP_LEVEL]))

    # --- reads --------------------------------------------------------------------------
    @_guard
    def get(self, event_id: str) -> dict[str, str]:
        data = as_hash(self._r.hgetall(keys.event(event_id)))
        if not data:
            raise EventNotFoundError(event_id)
        return _complete(data)

    @_guard
    def get_many(self, ids: Iterable[str]) -> list[dict[str, str]]:
        ids = list(ids)
        with self._r.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hgetall(keys.event(i))
            return [_complete(d) for d in pipe.execute() if d]

    @_guard
    def fields_many(self, ids: Iterable[str], fields: Sequence[str]) -> list[dict[str, str]]:
        """Only ``fields`` of each event (live views need a third of a hash)."""
        ids = list(ids)
        with self._r.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.hmget(keys.event(i), fields)
            rows = pipe.execute()
        return [{k: v or "" for k, v in zip(fields, row, strict=True)}
                for row in rows if row[0] is not None]

    @_guard
    def ids(self, index: str, *, since: float | None = None, until: float | None = None,
            offset: int = 0, limit: int = 100) -> list[str]:
        """Newest first from one index (``keys.ALL_INDEX``, ``keys.status_index(…)``…)."""
        hi = "+inf" if until is None else score(until)
        lo = "-inf" if since is None else score(since)
        return as_ids(self._r.zrevrangebyscore(index, hi, lo, start=offset, num=limit))

    def ids_where(self, *, status: str | None = None, grid: str | None = None,
                  street: str | None = None, category: str | None = None,
                  since: float | None = None, until: float | None = None, offset: int = 0,
                  limit: int = 100) -> list[str]:
        """Newest first from the index that fits these filters (``keys.event_index``); only
        one filter narrows the read, so callers check the others on what comes back."""
        index = keys.event_index(status=status, grid=grid, street=street, category=category)
        return self.ids(index, since=since, until=until, offset=offset, limit=limit)

    @_guard
    def set_fields(self, updates: Mapping[str, Mapping[str, str]]) -> None:
        """Rewrite some fields of existing events (an event gone meanwhile stays gone)."""
        with self._r.pipeline(transaction=False) as pipe:
            for event_id, fields in updates.items():
                pipe.eval(_SET_IF_EXISTS, 1, keys.event(event_id),
                          *(x for pair in fields.items() for x in pair))
            pipe.execute()

    @_guard
    def privacy_sealed(self) -> bool:
        return bool(self._r.exists(keys.PRIVACY_SEALED))

    @_guard
    def mark_privacy_sealed(self) -> None:
        self._r.set(keys.PRIVACY_SEALED, "1")

    @_guard
    def due_before(self, when: float, *, offset: int = 0, limit: int = 1000) -> list[str]:
        """Ids whose deadline has passed by ``when``, earliest deadline first, one page."""
        return as_ids(self._r.zrangebyscore(keys.DUE_INDEX, "-inf", score(when), start=offset,
                                            num=limit))

    @_guard
    def timeline(self, event_id: str) -> list[dict[str, str]]:
        """Every change of one event, oldest first: its creation, then its list of moves."""
        with self._r.pipeline(transaction=False) as pipe:
            pipe.hget(keys.event(event_id), "created_seq")
            pipe.lrange(keys.event_log(event_id), 0, -1)
            first, moves = pipe.execute()
        sids = ([first] if first else []) + moves
        with self._r.pipeline(transaction=False) as pipe:
            for sid in sids:
                pipe.xrange(CHANGES, sid, sid)
            entries = pipe.execute()
        return [{"seq": e[0][0], **e[0][1]} for e in entries if e]

    @_guard
    def count(self, index: str) -> int:
        return self._r.zcard(index)


_SET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
"""

#: Fields the create script places itself; every other non-empty field follows as pairs.
_PLACED = ("status", "street", "micro", "general", "total", "category")
_SKIP = frozenset((*_PLACED, "id"))
#: Text fields an event may lack (empty values are not stored); reads fill them in.
OPTIONAL_FIELDS = ("address", "building", "description", "reporter_name", "reporter_phone",
                   "address_sealed", "building_sealed", "description_sealed",
                   "attachments", "external_id", "occurred_at", "due_at", "reason",
                   "created_by", "extra", "assignee", "satisfaction", "note", "task")


def _item(ev: NewEvent) -> list[str]:
    f = ev.fields
    out = [ev.idempotency_key, ev.dedupe_key, str(max(ev.dedupe_window_ms, 1)),
           _day(int(ev.created)), _num(ev.created), score(ev.created),
           "" if ev.due is None else score(ev.due),
           *(f[k] for k in _PLACED)]
    out += [x for k, v in f.items() if v and k not in _SKIP for x in (k, v)]
    return out


@functools.lru_cache(maxsize=64)
def _day(second: int) -> str:
    """Ids carry the Beijing date people read on screens and receipts."""
    return datetime.fromtimestamp(second, CST).strftime("%Y%m%d")


def _complete(h: dict[str, str]) -> dict[str, str]:
    for k in OPTIONAL_FIELDS:
        h.setdefault(k, "")
    return h


def score(when: float) -> str:
    """An index score: epoch milliseconds as a whole number (see ``lua.CREATE_MANY``)."""
    return str(round(when * 1000))


def _num(x: float) -> str:
    return f"{x:.3f}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

