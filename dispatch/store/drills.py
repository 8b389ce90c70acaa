"""Drills in Redis: a header hash, the per-responder and per-household state, and the drill's
own stream (``drill-log:<id>``), the one history its report and replay are computed from.

Nothing of a drill is written to the ``changes`` stream: exercise data never mixes with real
work. The events a sweep raises (households needing help) are real events in dispatch carrying
the drill's id, and are removed with it by :meth:`DrillStore.purge`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis
from redis.commands.core import Script

from dispatch.drills.models import DrillChange, ResponderStatus
from dispatch.store import keys, lua_drills, lua_purge
from dispatch.store.core import (
    Entry,
    Store,
    as_entries,
    as_fields,
    as_hash,
    as_ids,
    as_stream_reads,
    as_texts,
)
from dispatch.store.errors import StoreError
from dispatch.store.events import score

READ_CHUNK = 5000


class DrillNotFoundError(KeyError):
    def __init__(self, drill_id: str) -> None:
        super().__init__(drill_id)
        self.drill_id = drill_id

    def __str__(self) -> str:
        return f"drill {self.drill_id!r} does not exist"


class DrillStateError(RuntimeError):
    """The drill is not in the status a write needs (``current`` says where it is)."""

    def __init__(self, drill_id: str, current: str, wanted: str) -> None:
        super().__init__(f"drill {drill_id!r} is {current or 'gone'!r}, not {wanted!r}")
        self.drill_id, self.current, self.wanted = drill_id, current, wanted


class NotParticipantError(KeyError):
    def __init__(self, drill_id: str, worker_id: str) -> None:
        super().__init__(worker_id)
        self.drill_id, self.worker_id = drill_id, worker_id

    def __str__(self) -> str:
        return f"worker {self.worker_id!r} is not called to drill {self.drill_id!r}"


class StepBackError(RuntimeError):
    """A responder step that is not forward (already there or past it)."""

    def __init__(self, worker_id: str, current: str, target: str) -> None:
        super().__init__(f"worker {worker_id!r} is already {current!r}; cannot go to {target!r}")
        self.worker_id, self.current, self.target = worker_id, current, target


class UnknownHouseholdError(KeyError):
    """A household that is not in the resident base, or not in the drill's scope."""

    def __init__(self, household: str, drill_id: str) -> None:
        super().__init__(household)
        self.household, self.drill_id = household, drill_id

    def __str__(self) -> str:
        return (f"household {self.household!r} is not in the resident base within "
                f"drill {self.drill_id!r}'s scope")


@dataclass(frozen=True, slots=True)
class Swept:
    t: float
    new: int
    swept: int
    seq: str


@dataclass(frozen=True, slots=True)
class NewDrill:
    id: str
    header: Mapping[str, str]
    responders: Mapping[str, int]  # worker id → muster point index
    details: Mapping[str, Any]  # the planned entry's details (the report's starting point)
    now: float
    actor: str
    role: str


class DrillStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._move = client.register_script(lua_drills.MOVE)
        self._step = client.register_script(lua_drills.STEP)
        self._sweep = client.register_script(lua_drills.SWEEP)
        self._time = client.register_script(lua_drills.TIME)
        self._purge_event = client.register_script(lua_purge.PURGE_EVENT)

    @classmethod
    def of(cls, store: Store) -> DrillStore:
        return cls(store._r)

    # --- writes ---------------------------------------------------------------------------
    def create(self, drill: NewDrill) -> str:
        """The header, every responder notified, the index, and the planned entry, at once."""
        entry = {"kind": DrillChange.PLANNED.value, "actor": drill.actor, "role": drill.role,
                 "at": f"{drill.now:.3f}", "t": "0.0",
                 "details": orjson.dumps(drill.details).decode()}
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.hset(keys.drill(drill.id), mapping=as_fields(drill.header))
                if drill.responders:
                    pipe.hset(keys.drill_responders(drill.id),
                              mapping=dict.fromkeys(drill.responders,
                                                    ResponderStatus.NOTIFIED.value))
                    pipe.hset(keys.drill_points(drill.id),
                              mapping={w: str(i) for w, i in drill.responders.items()})
                pipe.zadd(keys.DRILLS, {drill.id: score(drill.now)})
                pipe.xadd(keys.drill_log(drill.id), entry)  # type: ignore[arg-type]
                results = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"could not plan drill {drill.id!r}: {exc}") from exc
        return str(results[-1])

    def move(self, drill_id: str, *, expected: str, target: str, action: str, now: float,
             actor: str, role: str) -> float:
        reply = self._call(self._move, [drill_id, expected, target, action, f"{now:.3f}",
                                        actor, role], f"move drill {drill_id!r}")
        code = int(reply[0])
        if code == -1:
            raise DrillNotFoundError(drill_id)
        if code == 0:
            raise DrillStateError(drill_id, _s(reply[1]), expected)
        return float(reply[1])

    def step(self, drill_id: str, worker_id: str, *, target: str, now: float, actor: str,
             role: str, how: str = "", reason: str = "", lon: float | None = None,
             lat: float | None = None, dist_m: float | None = None) -> float:
        args = [drill_id, worker_id, target, f"{now:.3f}", actor, role, how, reason,
                _opt(lon, 7), _opt(lat, 7), _opt(dist_m, 1)]
        reply = self._call(self._step, args, f"step {worker_id!r} in drill {drill_id!r}")
        code = int(reply[0])
        if code == -1:
            raise DrillStateError(drill_id, _s(reply[1]), "running")
        if code == -2:
            raise NotParticipantError(drill_id, worker_id)
        if code == 0:
            raise StepBackError(worker_id, _s(reply[1]), target)
        return float(reply[1])

    def sweep(self, drill_id: str, items: Sequence[tuple[str, str]], *, prefix: str,
              now: float, actor: str, role: str) -> Swept:
        payload = orjson.dumps([list(i) for i in items]).decode()
        reply = self._call(self._sweep, [drill_id, f"{now:.3f}", actor, role, prefix, payload],
                           f"record a sweep report in drill {drill_id!r}")
        code = int(reply[0])
        if code == -1:
            raise DrillStateError(drill_id, _s(reply[1]), "running")
        if code == -2:
            raise UnknownHouseholdError(_s(reply[1]), drill_id)
        return Swept(t=float(reply[1]), new=int(reply[2]), swept=int(reply[3]),
                     seq=_s(reply[4]))

    def append(self, drill_id: str, kind: str, *, now: float, actor: str, role: str,
               fields: Mapping[str, str], events: Iterable[str] = (),
               slots: Mapping[str, str] | None = None) -> str:
        """One entry of another kind (positions, help raised, slots published), at the drill
        time the store reads now; with the drill's events or slots recorded in the same step."""
        t = self.drill_time(drill_id, now=now)
        entry = {"kind": kind, "actor": actor, "role": role, "at": f"{now:.3f}",
                 "t": f"{t:.1f}", **fields}
        try:
            with self._r.pipeline(transaction=True) as pipe:
                if events := list(events):
                    pipe.sadd(keys.drill_events(drill_id), *events)
                if slots:
                    pipe.hset(keys.drill_slots(drill_id), mapping=as_fields(slots))
                    pipe.hset(keys.SLOTS, mapping=as_fields(slots))
                pipe.xadd(keys.drill_log(drill_id), entry)  # type: ignore[arg-type]
                return str(pipe.execute()[-1])
        except redis.RedisError as exc:
            raise StoreError(f"could not record {kind!r} in drill {drill_id!r}: {exc}") from exc

    def put_notes(self, drill_id: str, notes: Mapping[str, str]) -> None:
        """Sweepers' notes by household (sealed by the caller: they may name people)."""
        try:
            self._r.hset(keys.drill_notes(drill_id), mapping=as_fields(notes))
        except redis.RedisError as exc:
            raise StoreError(f"could not keep notes of drill {drill_id!r}: {exc}") from exc

    def purge(self, drill_id: str) -> dict[str, int]:
        """Remove the drill whole: its events (with their tasks and stream entries), its
        published slots where still its own, and every key it owns."""
        events = sorted(self._members(keys.drill_events(drill_id)))
        removed = {"events": 0, "stream_entries": 0, "tasks": 0, "slots": 0}
        for event_id in events:
            reply = self._call(self._purge_event, [event_id, drill_id], "purge a drill event")
            if int(reply[0]) == 1:
                removed["events"] += 1
                removed["stream_entries"] += int(reply[1])
                removed["tasks"] += int(reply[2])
        removed["slots"] = self._drop_slots(drill_id)
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.delete(*keys.drill_keys(drill_id))
                pipe.zrem(keys.DRILLS, drill_id)
                pipe.srem(keys.DRILLS_LIVE, drill_id)
                removed["keys"] = int(pipe.execute()[0])
        except redis.RedisError as exc:
            raise StoreError(f"could not purge drill {drill_id!r}: {exc}") from exc
        return removed

    def _drop_slots(self, drill_id: str) -> int:
        mine = as_hash(self._r.hgetall(keys.drill_slots(drill_id)))
        if not mine:
            return 0
        current = dict(zip(mine, as_texts(self._r.hmget(keys.SLOTS, list(mine))), strict=True))
        still = [b for b, v in current.items() if v is not None and v == mine[b]]
        return int(self._r.hdel(keys.SLOTS, *still)) if still else 0

    # --- reads ----------------------------------------------------------------------------
    def header(self, drill_id: str) -> dict[str, str]:
        found = as_hash(self._r.hgetall(keys.drill(drill_id)))
        if not found:
            raise DrillNotFoundError(drill_id)
        return found

    def headers(self, ids: Sequence[str]) -> list[dict[str, str]]:
        with self._r.pipeline(transaction=False) as pipe:
            for drill_id in ids:
                pipe.hgetall(keys.drill(drill_id))
            return [h for h in pipe.execute() if h]

    def exists(self, drill_id: str) -> bool:
        return bool(self._r.exists(keys.drill(drill_id)))

    def ids(self, *, limit: int = 100) -> list[str]:
        """Drill ids, newest first."""
        return as_ids(self._r.zrevrange(keys.DRILLS, 0, limit - 1))

    def live_ids(self) -> set[str]:
        return self._members(keys.DRILLS_LIVE)

    def drill_time(self, drill_id: str, *, now: float) -> float:
        return float(self._time(args=[drill_id, f"{now:.3f}"]))

    def responders(self, drill_id: str) -> dict[str, str]:
        return as_hash(self._r.hgetall(keys.drill_responders(drill_id)))

    def responder_status(self, drill_id: str, worker_id: str) -> str | None:
        found = self._r.hget(keys.drill_responders(drill_id), worker_id)
        return None if found is None else str(found)

    def point_of(self, drill_id: str, worker_id: str) -> int:
        found = self._r.hget(keys.drill_points(drill_id), worker_id)
        return int(str(found)) if found is not None else 0

    def points_of(self, drill_id: str) -> dict[str, int]:
        raw = as_hash(self._r.hgetall(keys.drill_points(drill_id)))
        return {w: int(i) for w, i in raw.items()}

    def swept(self, drill_id: str) -> dict[str, int]:
        raw = as_hash(self._r.hgetall(keys.drill_swept(drill_id)))
        return {m: int(n) for m, n in raw.items()}

    def swept_of(self, drill_id: str, micros: Sequence[str]) -> dict[str, int]:
        found = as_texts(self._r.hmget(keys.drill_swept(drill_id), list(micros)))
        return {m: int(v or 0) for m, v in zip(micros, found, strict=True)}

    def household_states(self, drill_id: str, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        found = as_texts(self._r.hmget(keys.drill_households(drill_id), list(ids)))
        return {i: v for i, v in zip(ids, found, strict=True) if v is not None}

    def reached(self, drill_id: str) -> dict[str, str]:
        return as_hash(self._r.hgetall(keys.drill_households(drill_id)))

    def events(self, drill_id: str) -> set[str]:
        return self._members(keys.drill_events(drill_id))

    def slots(self, buildings: Sequence[str]) -> dict[str, str]:
        """The slots published for these buildings (JSON by building id)."""
        if not buildings:
            return {}
        found = as_texts(self._r.hmget(keys.SLOTS, list(buildings)))
        return {b: v for b, v in zip(buildings, found, strict=True) if v is not None}

    def log(self, drill_id: str, *, after: str = "-") -> list[Entry]:
        """The drill's whole stream (or what follows ``after``), in order."""
        out: list[Entry] = []
        start = after if after == "-" else f"({after}"
        while True:
            chunk = as_entries(self._r.xrange(keys.drill_log(drill_id), start, "+",
                                              count=READ_CHUNK))
            out += chunk
            if len(chunk) < READ_CHUNK:
                return out
            start = f"({chunk[-1][0]}"

    def log_head(self, drill_id: str) -> Entry:
        """The drill's first entry: what was planned."""
        first = as_entries(self._r.xrange(keys.drill_log(drill_id), count=1))
        if not first:
            raise DrillNotFoundError(drill_id)
        return first[0]

    def wait(self, positions: Mapping[str, str], *, block_ms: int,
             count: int = 2000) -> list[tuple[str, list[Entry]]]:
        """New entries of several drills' streams (drill id → last id read), blocking."""
        if not positions:
            return []
        streams = {keys.drill_log(d): p for d, p in positions.items()}
        reply = as_stream_reads(self._r.xread(streams, block=block_ms, count=count))  # type: ignore[arg-type]
        cut = len(keys.DRILL_LOG_PREFIX)
        return [(name[cut:], entries) for name, entries in reply]

    def head(self, drill_id: str) -> str:
        last = as_entries(self._r.xrevrange(keys.drill_log(drill_id), count=1))
        return last[0][0] if last else "0-0"

    # --- helpers ----------------------------------------------------------------------------
    def _members(self, key: str) -> set[str]:
        return {str(m) for m in self._r.smembers(key)}

    def _call(self, script: Script, args: list[str], doing: str) -> list[Any]:
        try:
            return list(script(args=args))
        except redis.RedisError as exc:
            raise StoreError(f"could not {doing}: {exc}") from exc


def _opt(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _s(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
