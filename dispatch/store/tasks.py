"""Tasks in Redis: one hash per task, the event's open-task guard, per-worker indices.

Every write is one Lua script (:mod:`dispatch.store.lua_tasks`) that checks what it expects
and writes the task, its event, the indices and the stream entries together, or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import redis
from redis.commands.core import Script

from dispatch.store import keys, lua_tasks
from dispatch.store.core import Store, as_hash, as_ids
from dispatch.store.errors import StoreError
from dispatch.store.events import EventNotFoundError, score
from dispatch.store.keys import CHANGES


@dataclass(frozen=True, slots=True)
class EventMove:
    """One step of the event a task write makes: from ``expected`` to ``target``."""

    expected: str
    target: str
    due: float | None

    def as_lua(self) -> list[str]:
        due = "" if self.due is None else f"{self.due:.3f}"
        return [self.expected, self.target, due, "" if self.due is None else score(self.due)]


@dataclass(frozen=True, slots=True)
class NewTask:
    event_id: str
    worker_id: str
    status: str
    moves: Sequence[EventMove]
    street: str
    now: float
    actor: str
    role: str
    accept_due: float | None
    fields: Mapping[str, str] = field(default_factory=dict)


class TaskTakenError(RuntimeError):
    """The event already has an open task (another operator assigned it first)."""

    def __init__(self, event_id: str, task_id: str, worker_id: str) -> None:
        super().__init__(f"event {event_id!r} is already assigned to {worker_id!r} "
                         f"(task {task_id})")
        self.event_id, self.task_id, self.worker_id = event_id, task_id, worker_id


class TaskMovedError(RuntimeError):
    """The task (or its event) is no longer where the step starts."""

    def __init__(self, what: str, item_id: str, current: str) -> None:
        super().__init__(f"{what} {item_id!r} is now {current!r}")
        self.what, self.item_id, self.current = what, item_id, current


class TaskNotFoundError(KeyError):
    def __init__(self, task_id: str) -> None:
        super().__init__(task_id)
        self.task_id = task_id

    def __str__(self) -> str:
        return f"task {self.task_id!r} does not exist"


class TaskStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._assign = client.register_script(lua_tasks.ASSIGN)
        self._step = client.register_script(lua_tasks.STEP)
        self._escalate = client.register_script(lua_tasks.ESCALATE_TASK)

    @classmethod
    def of(cls, store: Store) -> TaskStore:
        return cls(store._r)

    # --- writes -------------------------------------------------------------------------
    def assign(self, task: NewTask) -> str:
        """Create the task and move its event, or raise: TaskTakenError, TaskMovedError."""
        reply = self._call(self._assign, _assign_payload(task),
                           f"assign event {task.event_id!r}")
        return _assigned(task, reply)

    def assign_many(self, tasks: Sequence[NewTask]) -> list[str | Exception]:
        """Many assignments sent together: each is its own atomic script call (checked and
        written alone, as ``assign``); only the round trip is shared. One answer per task, in
        order: its id, or the error ``assign`` would have raised."""
        try:
            with self._r.pipeline(transaction=False) as pipe:
                for task in tasks:
                    self._assign(keys=[CHANGES], args=[_assign_payload(task)], client=pipe)
                replies = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            raise StoreError(f"could not assign {len(tasks)} events: {exc}") from exc
        out: list[str | Exception] = []
        for task, reply in zip(tasks, replies, strict=True):
            if isinstance(reply, Exception):
                out.append(StoreError(f"could not assign {task.event_id!r}: {reply}"))
                continue
            try:
                out.append(_assigned(task, reply))
            except (TaskTakenError, TaskMovedError, EventNotFoundError) as exc:
                out.append(exc)
        return out

    def step(self, task_id: str, *, expected: str, target: str, now: float, actor: str,
             role: str, reason: str = "", fields: Mapping[str, str] | None = None,
             event_fields: Mapping[str, str] | None = None, closes: bool = False,
             accepted: bool = False,
             move: EventMove | None = None) -> int:
        """Move a task from ``expected`` to ``target`` (and its event, if ``move``)."""
        payload = orjson.dumps({
            "task": task_id, "expected": expected, "target": target, "now": f"{now:.3f}",
            "now_ms": score(now), "actor": actor, "role": role, "reason": reason,
            "fields": dict(fields or {}),
            "event_fields": dict(event_fields or {}), "closes": closes,
            "accepted": accepted,
            "move": move.as_lua() if move else False})
        reply = self._call(self._step, payload, f"move task {task_id!r}")
        code = int(reply[0])
        if code == -1:
            raise TaskNotFoundError(task_id)
        if code == 0:
            raise TaskMovedError("task", task_id, _s(reply[1]))
        if code == 2:
            raise TaskMovedError("event", task_id, _s(reply[1]))
        return int(reply[1])

    def escalate(self, task_id: str, *, expected: str, level: int, tier: str, now: float,
                 next_due: float | None, notify: str) -> bool:
        args: list[str | int] = [task_id, expected, level, tier, f"{now:.3f}",
                                 "" if next_due is None else score(next_due), notify]
        try:
            return bool(self._escalate(keys=[CHANGES], args=args))
        except redis.RedisError as exc:
            raise StoreError(f"could not escalate task {task_id!r}: {exc}") from exc

    def _call(self, script: Script, payload: bytes, doing: str) -> list[Any]:
        try:
            return script(keys=[CHANGES], args=[payload])
        except redis.RedisError as exc:
            raise StoreError(f"could not {doing}: {exc}") from exc

    # --- reads --------------------------------------------------------------------------
    def get(self, task_id: str) -> dict[str, str]:
        found = self.many([task_id])
        if not found:
            raise TaskNotFoundError(task_id)
        return found[0]

    def many(self, ids: Iterable[str]) -> list[dict[str, str]]:
        try:
            with self._r.pipeline(transaction=False) as pipe:
                for i in ids:
                    pipe.hgetall(keys.task(i))
                return [as_hash(h) for h in pipe.execute() if h]
        except redis.RedisError as exc:
            raise StoreError(f"could not read tasks: {exc}") from exc

    def open_ids(self, *, limit: int = 2000) -> list[str]:
        """Open tasks, oldest assignment first."""
        return self._ids(keys.TASKS_OPEN, limit=limit)

    def of_worker(self, worker_id: str, *, since: float | None = None,
                  limit: int = 200) -> list[str]:
        """A worker's tasks, newest first (since a time: today's tasks on the worker page)."""
        try:
            lo = "-inf" if since is None else score(since)
            return as_ids(self._r.zrevrangebyscore(keys.worker_tasks(worker_id), "+inf", lo,
                                                   start=0, num=limit))
        except redis.RedisError as exc:
            raise StoreError(f"could not read tasks of {worker_id!r}: {exc}") from exc

    def open_task_of(self, event_id: str) -> str | None:
        try:
            found = self._r.get(keys.event_task(event_id))
            return None if found is None else str(found)  # decoded replies: str
        except redis.RedisError as exc:
            raise StoreError(f"could not read the task of {event_id!r}: {exc}") from exc

    def open_counts(self, worker_ids: Sequence[str]) -> dict[str, int]:
        """Open tasks per worker (recommendations weigh load), one read."""
        if not worker_ids:
            return {}
        try:
            counts = self._r.hmget(keys.TASKS_OPEN_COUNTS, list(worker_ids))
        except redis.RedisError as exc:
            raise StoreError(f"could not count open tasks: {exc}") from exc
        return {w: int(n) for w, n in zip(worker_ids, counts, strict=True) if n and int(n) > 0}

    def accept_overdue(self, now: float, *, limit: int = 1000) -> list[str]:
        try:
            return as_ids(self._r.zrangebyscore(keys.TASKS_ACCEPT_DUE, "-inf", score(now),
                                                start=0, num=limit))
        except redis.RedisError as exc:
            raise StoreError(f"could not read overdue tasks: {exc}") from exc

    def _ids(self, key: str, *, limit: int) -> list[str]:
        try:
            return as_ids(self._r.zrange(key, 0, limit - 1))
        except redis.RedisError as exc:
            raise StoreError(f"could not read {key}: {exc}") from exc


def _assign_payload(task: NewTask) -> bytes:
    return orjson.dumps({
        "event": task.event_id, "moves": [m.as_lua() for m in task.moves],
        "now": f"{task.now:.3f}", "now_ms": score(task.now), "actor": task.actor,
        "role": task.role, "reason": "", "worker": task.worker_id, "status": task.status,
        "accept_due_ms": "" if task.accept_due is None else score(task.accept_due),
        "street": task.street, "fields": dict(task.fields)})


def _assigned(task: NewTask, reply: list[Any]) -> str:
    """The new task's id from the script's answer, or the refusal it stands for."""
    code = int(reply[0])
    if code == 0:
        raise TaskTakenError(task.event_id, _s(reply[1]), _s(reply[2]))
    if code == 2:
        raise TaskMovedError("event", task.event_id, _s(reply[1]))
    if code == -1:
        raise EventNotFoundError(task.event_id)
    return _s(reply[1])


def _s(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
