"""A muster read once from its stream: each responder's steps, positions and first arrival."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from dispatch.drills.models import DrillChange, ResponderStatus
from dispatch.drills.stream import Entry, Tally, at_of, coordinate, t_of

Series = tuple[list[float], list[Any]]  # drill times and the value at each, in time order


@dataclass(frozen=True, slots=True)
class Arrival:
    """A responder's first arrival: when, and whether the fence or a coordinator said so."""

    t: float
    at: float | None
    how: str
    reason: str


@dataclass
class MusterLog(Tally):
    status: dict[str, str] = field(default_factory=dict)  # worker → last status reported
    arrivals: dict[str, Arrival] = field(default_factory=dict)
    steps: dict[str, Series] = field(default_factory=dict)  # worker → statuses over time
    places: dict[str, Series] = field(default_factory=dict)  # worker → (lon, lat) over time

    def workers(self) -> list[str]:
        """The responders called (the header's list), else everyone seen stepping."""
        called = [p.worker for p in self.head.participants]
        return called or sorted(self.status)


def read_muster(base: Tally, in_order: Sequence[Entry]) -> MusterLog:
    """Each responder's steps, positions, last status and first arrival."""
    log = MusterLog(base.head, base.moves, base.planned, base.last_t)
    for _, fields in in_order:
        kind, t = fields.get("kind"), t_of(fields)
        if kind == DrillChange.POSITIONS.value:
            for row in orjson.loads(fields.get("items") or "[]"):
                if len(row) >= 3:
                    _append(log.places, str(row[0]), t, (float(row[1]), float(row[2])))
        if kind != DrillChange.STEP.value:
            continue
        worker, after = fields.get("worker", ""), fields.get("after", "")
        log.status[worker] = after
        _append(log.steps, worker, t, after)
        lon, lat = coordinate(fields.get("lon")), coordinate(fields.get("lat"))
        if lon is not None and lat is not None:
            _append(log.places, worker, t, (lon, lat))
        if after == ResponderStatus.ARRIVED.value and worker not in log.arrivals:
            log.arrivals[worker] = Arrival(t=t, at=at_of(fields), how=fields.get("how", ""),
                                           reason=fields.get("reason", ""))
    return log


def _append(index: dict[str, Series], key: str, t: float, value: object) -> None:
    times, values = index.setdefault(key, ([], []))
    times.append(t)
    values.append(value)
