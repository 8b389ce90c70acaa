"""The task lifecycle: its steps, who takes each, what each needs, and that every step moves
the event along a move its own workflow allows."""

from __future__ import annotations

import pytest

from dispatch.access.policy import Permission
from dispatch.events.models import Status
from dispatch.events.workflow import TRANSITIONS
from dispatch.tasks.lifecycle import (
    STEPS,
    Actor,
    StepError,
    TaskStatus,
    check_step,
    path_to_close,
)

#: Where the event stands when each task status is reached along the happy path.
EVENT_AT = {None: Status.REGISTERED, TaskStatus.ASSIGNED: Status.DISPATCHED,
            TaskStatus.ACCEPTED: Status.SIGNED, TaskStatus.EN_ROUTE: Status.IN_PROGRESS,
            TaskStatus.ON_SITE: Status.IN_PROGRESS, TaskStatus.RESOLVED: Status.FEEDBACK,
            TaskStatus.VERIFIED: Status.VERIFIED, TaskStatus.CALLED_BACK: Status.VERIFIED}


def test_the_happy_path_reaches_closed_with_the_event_closed():
    current, event = None, Status.REGISTERED
    extras = {TaskStatus.RESOLVED: {"note": "已清理"},
              TaskStatus.CALLED_BACK: {"satisfaction": "satisfied"}}
    for target in path_to_close():
        step = check_step(current, target, by=STEPS[(current, target)].by,
                          **extras.get(target, {}))
        if step.event_to is not None:
            assert (event, step.event_to) in TRANSITIONS
            event = step.event_to
        current = target
    assert (current, event) == (TaskStatus.CLOSED, Status.CLOSED)


@pytest.mark.parametrize(("source", "target"), list(STEPS))
def test_every_step_moves_the_event_by_a_move_its_workflow_allows(source, target):
    step = STEPS[(source, target)]
    if step.event_to is None:
        return
    event = EVENT_AT[source]
    move = TRANSITIONS.get((event, step.event_to))
    assert move is not None, f"{source}→{target} would move the event {event}→{step.event_to}"
    # the step's actor holds the event move's permission (operators hold field moves too)
    assert move.permission in (step.permission, Permission.EVENT_HANDLE)


def test_field_steps_are_the_workers_and_the_rest_the_centres():
    with pytest.raises(StepError) as err:
        check_step(TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, by=Actor.CENTRE)
    assert err.value.field == "role"
    with pytest.raises(StepError) as err:
        check_step(TaskStatus.RESOLVED, TaskStatus.VERIFIED, by=Actor.WORKER)
    assert err.value.field == "role"


@pytest.mark.parametrize(("source", "target", "by", "field"), [
    (TaskStatus.ASSIGNED, TaskStatus.DECLINED, Actor.WORKER, "reason"),
    (TaskStatus.ON_SITE, TaskStatus.RESOLVED, Actor.WORKER, "note"),
    (TaskStatus.VERIFIED, TaskStatus.CALLED_BACK, Actor.CENTRE, "satisfaction"),
    (TaskStatus.EN_ROUTE, TaskStatus.RETURNED, Actor.CENTRE, "reason"),
    (TaskStatus.ASSIGNED, TaskStatus.CLOSED, Actor.CENTRE, "status"),
    (TaskStatus.CLOSED, TaskStatus.ACCEPTED, Actor.WORKER, "status"),
])
def test_a_step_names_what_it_lacks(source, target, by, field):
    with pytest.raises(StepError) as err:
        check_step(source, target, by=by, satisfaction="thrilled")
    assert err.value.field == field


def test_closed_declined_and_returned_tasks_are_no_longer_open():
    assert {s for s in TaskStatus if not s.open} == {
        TaskStatus.CLOSED, TaskStatus.DECLINED, TaskStatus.RETURNED}
