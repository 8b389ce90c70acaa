"""A drill's own change stream as read back (XRANGE): its header, its moves, and each entry's
clock, so figures and the replay read the same things the same way.

Entries are ``(entry_id, fields)`` pairs. ``t`` is drill time (stops while paused, runs faster
in simulation), so nothing here subtracts pauses; ``at`` is the wall clock, shown beside it.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dispatch.drills.models import DrillChange, DrillKind, DrillStatus

Fields = Mapping[str, str]
Entry = tuple[str, Fields]


class NotADrillStreamError(ValueError):
    """Entries without the ``drill.planned`` header every drill stream starts with."""


@dataclass(frozen=True, slots=True)
class Participant:
    """One responder called to a muster (ids and grid only: no names, no phones)."""

    worker: str
    grid: str
    point: int
    role: str
    team: str


@dataclass(frozen=True)
class Header:
    """What the drill was planned as: the yardstick every figure is measured against."""

    id: str
    kind: DrillKind
    scenario: str
    scope: str
    title: str
    target_s: float
    pass_share: float
    speed: float
    simulated: bool
    points: tuple[Mapping[str, object], ...] = ()
    participants: tuple[Participant, ...] = ()
    households: Mapping[str, int] = field(default_factory=dict)
    priority: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Move:
    """A start, pause, resume, finish or abort, on both clocks."""

    action: str
    before: str
    after: str
    t: float
    at: float | None


def t_of(fields: Fields) -> float:
    """Drill seconds of an entry (a missing or blank ``t`` is the drill's start)."""
    raw = fields.get("t") or ""
    return float(raw) if raw.strip() else 0.0


def at_of(fields: Fields) -> float | None:
    raw = fields.get("at") or ""
    return float(raw) if raw.strip() else None


def ordered(entries: Iterable[Entry]) -> list[Entry]:
    """Entries by drill time; equal times keep stream order (a stable sort)."""
    return sorted(entries, key=lambda entry: t_of(entry[1]))


def of_kind(entries: Iterable[Entry], kind: DrillChange) -> Iterator[Fields]:
    return (fields for _, fields in entries if fields.get("kind") == kind.value)


def header(entries: Sequence[Entry]) -> Header:
    """The drill's plan from its ``drill.planned`` entry (the first one, normally)."""
    for fields in of_kind(entries, DrillChange.PLANNED):
        return _header(json.loads(fields.get("details") or "{}"))
    raise NotADrillStreamError("no drill.planned entry: not a drill's change stream")


def _header(raw: Mapping[str, object]) -> Header:
    kind = DrillKind(str(raw.get("kind") or DrillKind.MUSTER.value))
    return Header(
        id=str(raw.get("id", "")), kind=kind, scenario=str(raw.get("scenario", "")),
        scope=str(raw.get("scope", "")), title=str(raw.get("title", "")),
        target_s=_number(raw.get("target_s"), 900), pass_share=_number(raw.get("pass_share"), 1),
        speed=_number(raw.get("speed"), 1), simulated=bool(raw.get("simulated")),
        points=tuple(p for p in _rows(raw.get("points")) if isinstance(p, Mapping)),
        participants=tuple(_participant(row) for row in _rows(raw.get("participants"))),
        households=_counts(raw.get("households")), priority=_counts(raw.get("priority")))


def _participant(row: object) -> Participant:
    worker, grid, point, role, team = [*row, "", "", "", "", ""][:5] if isinstance(row, list) \
        else ["", "", -1, "", ""]
    return Participant(worker=str(worker), grid=str(grid or ""), point=_index(point),
                       role=str(role or ""), team=str(team or ""))


def _index(value: object) -> int:
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else -1


def _rows(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) or (
        isinstance(value, str) and value.strip()) else default


def _counts(value: object) -> dict[str, int]:
    return {str(k): int(v) for k, v in value.items()} if isinstance(value, Mapping) else {}


def moves(entries: Iterable[Entry]) -> list[Move]:
    """Every status move, in the order of ``entries`` (pass them :func:`ordered`)."""
    return [Move(action=f.get("action", ""), before=f.get("before", ""),
                 after=f.get("after", ""), t=t_of(f), at=at_of(f))
            for f in of_kind(entries, DrillChange.MOVED)]


def status_at(drill_moves: Sequence[Move], t: float | None = None) -> str:
    """The drill's status after the moves up to ``t`` (all of them when None)."""
    status = DrillStatus.PLANNED.value
    for move in drill_moves:
        if t is not None and move.t > t:
            break
        status = move.after or status
    return status


def coordinate(value: str | None) -> float | None:
    return float(value) if value and value.strip() else None


@dataclass
class Tally:
    """What every drill's reading shares: the plan, its moves, and how far the stream goes."""

    head: Header
    moves: list[Move]
    planned: tuple[float, float | None]  # (t, at) of the plan
    last_t: float


def tally(entries: Sequence[Entry]) -> tuple[list[Entry], Tally]:
    """The entries in drill-time order, and what they say about the drill as a whole."""
    in_order = ordered(entries)
    planned = next((f for f in of_kind(in_order, DrillChange.PLANNED)), {})
    return in_order, Tally(head=header(in_order), moves=moves(in_order),
                           planned=(t_of(planned), at_of(planned)),
                           last_t=max((t_of(f) for _, f in in_order), default=0.0))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Reading a district sweep makes a million small objects that all stay alive; the
    cyclic garbage collector would walk them again and again (seconds) and free nothing."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
