"""The legal moves of an event, who may make them, and the clock on each step.

Every transition names the permission it needs and whether it needs a reason. Each
open status has a time limit from the SLA table (category class × severity); an event still
in a status after its limit is overdue and climbs one escalation tier per limit missed:
micro-grid → general grid → total grid → street centre. Deadlines are stored as absolute
times, so clocks keep running correctly across restarts.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from dispatch.access.policy import Forbidden, Permission, permits, require
from dispatch.access.roles import Actor
from dispatch.events.models import ESCALATION_TIERS, Severity, Status
from geo.model import data_dir

S, P = Status, Permission
_MANAGE, _HANDLE = P.EVENT_MANAGE, P.EVENT_HANDLE


@dataclass(frozen=True, slots=True)
class Move:
    permission: Permission
    needs_reason: bool = False


#: (from, to) → the permission a move needs (the grant table says which roles hold it).
TRANSITIONS: dict[tuple[Status, Status], Move] = {
    (S.COLLECTED, S.REPORTED): Move(_HANDLE),
    (S.COLLECTED, S.CANCELLED): Move(_MANAGE, needs_reason=True),
    (S.REPORTED, S.REGISTERED): Move(_MANAGE),
    (S.REPORTED, S.CANCELLED): Move(_MANAGE, needs_reason=True),
    (S.REGISTERED, S.DISPATCHED): Move(_MANAGE),
    (S.REGISTERED, S.CANCELLED): Move(_MANAGE, needs_reason=True),
    (S.DISPATCHED, S.SIGNED): Move(_HANDLE),
    (S.DISPATCHED, S.RETURNED): Move(_HANDLE, needs_reason=True),
    (S.SIGNED, S.IN_PROGRESS): Move(_HANDLE),
    (S.SIGNED, S.RETURNED): Move(_HANDLE, needs_reason=True),
    (S.IN_PROGRESS, S.FEEDBACK): Move(_HANDLE),
    (S.IN_PROGRESS, S.RETURNED): Move(_MANAGE, needs_reason=True),  # the centre takes it back
    (S.FEEDBACK, S.VERIFIED): Move(_MANAGE),
    (S.FEEDBACK, S.REOPENED): Move(_MANAGE, needs_reason=True),
    (S.VERIFIED, S.CLOSED): Move(_MANAGE),
    (S.VERIFIED, S.REOPENED): Move(_MANAGE, needs_reason=True),
    (S.CLOSED, S.REOPENED): Move(_MANAGE, needs_reason=True),
    (S.CLOSED, S.ARCHIVED): Move(P.EVENT_ARCHIVE),
    (S.RETURNED, S.DISPATCHED): Move(_MANAGE),  # reviewed and re-assigned (改派)
    (S.RETURNED, S.CANCELLED): Move(_MANAGE, needs_reason=True),
    (S.REOPENED, S.DISPATCHED): Move(_MANAGE),
}


class TransitionError(ValueError):
    """An illegal move: wrong current status, wrong role, or a missing reason."""

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


def check_move(current: Status, target: Status, *, actor: Actor, reason: str,
               street: str | None = None, grids: Iterable[str] = (),
               assignee: str = "") -> Move:
    """The move, if it exists, the actor's grants reach it (at the event's place, when
    given) and it has the reason it needs; else TransitionError naming what is wrong.

    Field work on an event dispatched to someone is theirs: a worker cannot sign, start or
    report on another worker's event, even in their own grids.
    """
    move = TRANSITIONS.get((current, target))
    if move is None:
        allowed = sorted(t.value for (f, t) in TRANSITIONS if f == current)
        raise TransitionError(
            f"cannot move from {current.value!r} to {target.value!r}; "
            f"from {current.value!r} an event can go to {allowed}",
            field="status", value=target.value)
    try:
        require(actor, move.permission, street=street, grids=grids, assignee=assignee)
    except Forbidden as exc:
        raise TransitionError(
            f"role {actor.role.value!r} may not move an event from {current.value!r} to "
            f"{target.value!r} ({exc})", field="role", value=actor.role.value) from exc
    if (assignee and assignee != actor.name and move.permission is Permission.EVENT_HANDLE
            and not permits(actor, Permission.EVENT_MANAGE)):
        raise TransitionError(f"event is dispatched to {assignee!r}, not to {actor.name!r}",
                              field="assignee", value=actor.name)
    if move.needs_reason and not reason.strip():
        raise TransitionError(f"moving to {target.value!r} needs a reason", field="reason",
                              value=reason)
    return move


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


@dataclass
class ManualClock:
    """A clock tests and drills can move by hand."""

    t: float = 1_800_000_000.0

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@cache
def sla_table() -> dict[tuple[str, Severity], dict[Status, int]]:
    """(class or "*", severity) → minutes allowed in each status, from data/sla.csv."""
    table = {}
    with open(data_dir() / "sla.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            key = (row.pop("class"), Severity(row.pop("severity")))
            table[key] = {Status(k): int(v) for k, v in row.items()}
    return table


def limit_minutes(category: str, severity: Severity, status: Status) -> int | None:
    """Minutes an event may stay in ``status``; None where no clock runs."""
    return _limit(category[:2], str(severity), str(status))


@cache
def _limit(class_code: str, severity: str, status: str) -> int | None:
    """Cached on plain strings: an enum's hash is a Python call, and intake asks per event."""
    table = sla_table()
    for key in ((class_code, Severity(severity)), ("*", Severity(severity))):
        limits = table.get(key)
        if limits and Status(status) in limits:
            return limits[Status(status)]
    return None


def due_at(category: str, severity: Severity, status: Status, *, entered: float) -> float | None:
    minutes = limit_minutes(category, severity, status)
    return None if minutes is None else entered + minutes * 60


def escalation_level(*, entered: float, due: float | None, now: float) -> int:
    """0 while on time; then +1 per limit overrun, capped at the street centre."""
    if due is None or now <= due:
        return 0
    span = max(due - entered, 1.0)
    return min(1 + int((now - due) // span), len(ESCALATION_TIERS) - 1)


def escalation_tier(level: int) -> str:
    return ESCALATION_TIERS[min(max(level, 0), len(ESCALATION_TIERS) - 1)]
