"""A drill's state at any drill second, from the entries up to that second only.

A district sweep has tens of thousands of report entries over hundreds of thousands of
households, and a scrubber asks for many seconds, so :class:`Replay` reads the stream once
into arrays sorted by drill time; each :meth:`Replay.at` is then a few binary searches and
one ``bincount``, not a pass over the stream.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dispatch.drills.models import ResponderStatus
from dispatch.drills.musterlog import Series
from dispatch.drills.stream import Entry, Header, status_at
from dispatch.drills.tally import HOUSEHOLD_STATUSES, MusterLog, SweepLog, read


def state_at(entries: Sequence[Entry], t: float) -> dict[str, Any]:
    """The drill as it stood at drill second ``t`` (for one look; index once for many)."""
    return Replay(entries).at(t)


class Replay:
    """A drill's stream indexed once, so the state at many drill seconds is cheap."""

    def __init__(self, entries: Sequence[Entry] | MusterLog | SweepLog) -> None:
        log = entries if isinstance(entries, MusterLog | SweepLog) else read(entries)
        self.head: Header = log.head
        self.end_t = log.last_t
        self._moves = log.moves
        self._index: _MusterIndex | _SweepIndex = (
            _MusterIndex(log) if isinstance(log, MusterLog) else _SweepIndex(log))

    def at(self, t: float) -> dict[str, Any]:
        """Counts (and, for a muster, each responder) as they were at drill second ``t``."""
        return {"t": t, "kind": self.head.kind.value, "status": status_at(self._moves, t),
                **self._index.at(t)}


class _MusterIndex:
    """Per responder: their steps and positions, each sorted by drill time."""

    def __init__(self, log: MusterLog) -> None:
        self.workers = log.workers()
        self.called = bool(log.head.participants)  # else: whoever has stepped by then
        self.steps, self.places = log.steps, log.places

    def at(self, t: float) -> dict[str, Any]:
        counts = dict.fromkeys((s.value for s in ResponderStatus), 0)
        responders = {}
        for worker in self.workers:
            status = _last(self.steps.get(worker), t)
            if status is None and not self.called:
                continue
            status = status or ResponderStatus.NOTIFIED.value
            place = _last(self.places.get(worker), t)
            counts[status] = counts.get(status, 0) + 1
            responders[worker] = {"status": status, "lon": place[0] if place else None,
                                  "lat": place[1] if place else None}
        return {"total": len(responders), "arrived": counts[ResponderStatus.ARRIVED.value],
                "counts": counts, "responders": responders}


def _last(series: Series | None, t: float) -> Any:
    """The latest value at or before ``t`` (None before the first)."""
    if not series:
        return None
    i = bisect_right(series[0], t)
    return series[1][i - 1] if i else None


class _SweepIndex:
    """First visits as (t, micro-grid) arrays, status changes as cumulative counts."""

    def __init__(self, log: SweepLog) -> None:
        self.micros = log.micros
        self.planned = np.array([log.head.households.get(m, 0) for m in self.micros],
                                dtype=np.int64)
        self.in_plan = [m in log.head.households for m in self.micros]
        self.first_t, self.first_micro = log.first_t, log.micro_index
        self.change_t = log.change_t
        self.status_sums: NDArray[np.int64] = np.cumsum(log.changes, axis=0)
        self.help = log.help
        self.help_t = [t for t, _, _ in log.help]

    def at(self, t: float) -> dict[str, Any]:
        k = int(np.searchsorted(self.first_t, t, side="right"))
        per_micro = np.bincount(self.first_micro[:k], minlength=len(self.micros))
        j = int(np.searchsorted(self.change_t, t, side="right"))
        sums = self.status_sums[j - 1].tolist() if j else [0] * len(HOUSEHOLD_STATUSES)
        h = bisect_right(self.help_t, t)
        return {"total": int(np.maximum(self.planned, per_micro).sum()), "reached": k,
                "by_micro": {m: n for m, n, planned in zip(self.micros, per_micro.tolist(),
                                                           self.in_plan, strict=True)
                             if n or planned},
                "statuses": dict(zip(HOUSEHOLD_STATUSES, sums, strict=True)), "help": h,
                "help_events": [[household, event] for _, household, event in self.help[:h]]}


class Replays:
    """Replays of recent drills, kept while their streams stay as they were: a scrubber asks
    many seconds of one drill, and a district sweep's index takes seconds to build."""

    def __init__(self, store: Any, *, keep: int = 4) -> None:
        self._store = store
        self._keep = keep
        self._found: dict[str, tuple[str, Replay]] = {}
        self._lock = threading.Lock()

    def at(self, drill_id: str, t: float) -> dict[str, Any]:
        head = self._store.head(drill_id)
        with self._lock:
            kept = self._found.get(drill_id)
        if kept is None or kept[0] != head:
            kept = (head, Replay(self._store.log(drill_id)))
            with self._lock:
                self._found.pop(drill_id, None)
                self._found[drill_id] = kept
                while len(self._found) > self._keep:
                    self._found.pop(next(iter(self._found)))
        return kept[1].at(t)
