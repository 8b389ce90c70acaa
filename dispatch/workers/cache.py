"""The roster in memory, for reads on every recommendation: re-read whole when it changes.

A roster changes by import (a whole file at once) and is read thousands of times between:
each recommendation wants the event's grid, three leaders and the grids of the nearest
workers. Reading those from Redis costs a round trip each; here they cost a dict lookup, and
one cheap version check a second notices an import.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.events.workflow import Clock
from dispatch.store.workers import WorkerStore
from dispatch.workers.models import DutyStatus, Worker
from dispatch.workers.roster import LOCAL_TZ, duty_at

CHECK_EVERY_S = 1.0  # an import is seen within this


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: str
    by_id: dict[str, Worker]
    by_grid: dict[str, list[Worker]]
    leaders: dict[str, Worker]


def snapshot(version: str, workers: Iterable[Worker]) -> Snapshot:
    by_id = {w.id: w for w in workers}
    by_grid: dict[str, list[Worker]] = defaultdict(list)
    for w in sorted(by_id.values(), key=lambda w: w.id):
        by_grid[w.grid].append(w)
    leaders = {w.leads: w for w in by_id.values() if w.leads}
    return Snapshot(version, by_id, dict(by_grid), leaders)


@dataclass
class RosterCache:
    """Reads like :class:`WorkerStore` (``get``, ``many``, ``in_grid``, ``leader_of``)."""

    store: WorkerStore
    check_every_s: float = CHECK_EVERY_S
    _snap: Snapshot | None = None
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> Snapshot:
        now = time.monotonic()
        snap = self._snap
        if snap is not None and now - self._checked < self.check_every_s:
            return snap
        with self._lock:
            if self._snap is not None and now - self._checked < self.check_every_s:
                return self._snap
            version = self.store.version()
            if self._snap is None or self._snap.version != version:
                self._snap = snapshot(version, self.store.all())
            self._checked = now
            return self._snap

    def get(self, worker_id: str) -> Worker | None:
        return self.current().by_id.get(worker_id)

    def many(self, ids: Iterable[str]) -> list[Worker]:
        by_id = self.current().by_id
        return [by_id[i] for i in ids if i in by_id]

    def in_grid(self, micro_code: str) -> list[Worker]:
        return list(self.current().by_grid.get(micro_code, ()))

    def all_workers(self) -> list[Worker]:
        return list(self.current().by_id.values())

    def leader_of(self, grid_code: str) -> Worker | None:
        return self.current().leaders.get(grid_code)


class DutyCache:
    """Each worker's duty status, worked out once a minute: shifts and leave change on the
    minute, and a recommendation asks for every candidate and their grids' colleagues."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._minute = -1
        self._memo: dict[str, DutyStatus] = {}
        self._grids: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, worker: Worker) -> DutyStatus:
        minute = int(self._clock.now() // 60)
        if minute != self._minute:
            with self._lock:
                if minute != self._minute:
                    self._memo, self._grids = {}, {}
                    self._minute = minute
        found = self._memo.get(worker.id)
        if found is None:
            found = duty_at(worker, datetime.fromtimestamp(minute * 60, LOCAL_TZ))
            self._memo[worker.id] = found
        return found

    def on_duty_in(self, grid: str, workers: Iterable[Worker]) -> int:
        """How many of a grid's ``workers`` are on duty this minute (counted once a minute:
        every recommendation near the grid asks)."""
        minute = int(self._clock.now() // 60)
        found = self._grids.get(grid) if minute == self._minute else None
        if found is None:
            found = sum(self(w) is DutyStatus.ON_DUTY for w in workers)
            self._grids[grid] = found
        return found
