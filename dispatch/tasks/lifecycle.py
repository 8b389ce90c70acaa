"""A task's life: assigned → accepted (or declined) → en route → on site → resolved →
verified (核查) → called back (回访) → closed; returned and reassigned (改派) on the way.

A task is one worker's piece of an event's work. Each task step moves the event through its
own seven-step loop where the two meet (the event keeps its SLA clock): assigning dispatches
the event, accepting signs it, going en route starts it, resolving feeds back, verifying
verifies, the call-back closes it, and a decline or a return returns it for reassignment.

Who may take a step is a permission of the one access policy: the assigned worker does field
work (``event.handle``, and only on their own task); the centre assigns, verifies, calls back
and reassigns (``event.manage``). This module holds the table; the service applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dispatch.access.policy import Permission
from dispatch.events.models import Satisfaction, Status


class TaskStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    CALLED_BACK = "called_back"
    CLOSED = "closed"
    RETURNED = "returned"  # sent back by the centre after verification failed, or withdrawn

    @property
    def open(self) -> bool:
        return self not in (TaskStatus.CLOSED, TaskStatus.DECLINED, TaskStatus.RETURNED)


class Actor(StrEnum):
    WORKER = "worker"  # the assigned worker only
    CENTRE = "centre"  # an operator


@dataclass(frozen=True, slots=True)
class Step:
    by: Actor
    event_to: Status | None  # the event's status this step moves it to, if any
    needs_reason: bool = False
    needs_note: bool = False
    needs_satisfaction: bool = False

    @property
    def permission(self) -> Permission:
        return Permission.EVENT_HANDLE if self.by is Actor.WORKER else Permission.EVENT_MANAGE


T, S = TaskStatus, Status
#: (from, to) → the step. ``None`` as the source is the assignment that creates the task.
STEPS: dict[tuple[TaskStatus | None, TaskStatus], Step] = {
    (None, T.ASSIGNED): Step(Actor.CENTRE, S.DISPATCHED),
    (T.ASSIGNED, T.ACCEPTED): Step(Actor.WORKER, S.SIGNED),
    (T.ASSIGNED, T.DECLINED): Step(Actor.WORKER, S.RETURNED, needs_reason=True),
    (T.ACCEPTED, T.EN_ROUTE): Step(Actor.WORKER, S.IN_PROGRESS),
    (T.ACCEPTED, T.DECLINED): Step(Actor.WORKER, S.RETURNED, needs_reason=True),
    (T.EN_ROUTE, T.ON_SITE): Step(Actor.WORKER, None),
    (T.ON_SITE, T.RESOLVED): Step(Actor.WORKER, S.FEEDBACK, needs_note=True),
    (T.RESOLVED, T.VERIFIED): Step(Actor.CENTRE, S.VERIFIED),
    (T.RESOLVED, T.RETURNED): Step(Actor.CENTRE, S.REOPENED, needs_reason=True),
    (T.VERIFIED, T.CALLED_BACK): Step(Actor.CENTRE, None, needs_satisfaction=True),
    (T.CALLED_BACK, T.CLOSED): Step(Actor.CENTRE, S.CLOSED),
    (T.CALLED_BACK, T.RETURNED): Step(Actor.CENTRE, S.REOPENED, needs_reason=True),
    # the centre takes a task back before it is done (改派): the event goes back for reassignment
    (T.ASSIGNED, T.RETURNED): Step(Actor.CENTRE, S.RETURNED, needs_reason=True),
    (T.ACCEPTED, T.RETURNED): Step(Actor.CENTRE, S.RETURNED, needs_reason=True),
    (T.EN_ROUTE, T.RETURNED): Step(Actor.CENTRE, S.RETURNED, needs_reason=True),
    (T.ON_SITE, T.RETURNED): Step(Actor.CENTRE, S.RETURNED, needs_reason=True),
}


class StepError(ValueError):
    """A step that does not exist from here, or lacks what it needs; names the field."""

    def __init__(self, message: str, *, field: str, value: object) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


def check_step(current: TaskStatus | None, target: TaskStatus, *, by: Actor, reason: str = "",
               note: str = "", satisfaction: str = "") -> Step:
    """The step, if it exists for this kind of actor and has what it needs."""
    step = STEPS.get((current, target))
    if step is None:
        allowed = sorted(t.value for (f, t) in STEPS if f == current)
        raise StepError(f"a task cannot go from {current.value if current else 'nothing'!r} "
                        f"to {target.value!r}; from there it can go to {allowed}",
                        field="status", value=target.value)
    if step.by is not by:
        raise StepError(f"{target.value!r} is a step for the {step.by.value}, not the "
                        f"{by.value}", field="role", value=by.value)
    if step.needs_reason and not reason.strip():
        raise StepError(f"{target.value!r} needs a reason", field="reason", value=reason)
    if step.needs_note and not note.strip():
        raise StepError(f"{target.value!r} needs a note saying what was done", field="note",
                        value=note)
    if step.needs_satisfaction and satisfaction not in {s.value for s in Satisfaction}:
        raise StepError(f"the call-back needs the resident's satisfaction, one of "
                        f"{[s.value for s in Satisfaction]}", field="satisfaction",
                        value=satisfaction)
    return step


def path_to_close() -> list[TaskStatus]:
    """The happy path, in order (screens draw it as the task's progress strip)."""
    return [T.ASSIGNED, T.ACCEPTED, T.EN_ROUTE, T.ON_SITE, T.RESOLVED, T.VERIFIED,
            T.CALLED_BACK, T.CLOSED]
