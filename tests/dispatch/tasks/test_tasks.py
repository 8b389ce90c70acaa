"""Tasks on a real Redis: the whole life to the call-back, declines and reassignment, the
clock on acceptance, and one winner when many assign the same event at once."""

from __future__ import annotations

import threading

import pytest

from dispatch.access.policy import Forbidden
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.intake import Intake, Report, parse
from dispatch.events.models import ChangeKind, Satisfaction, Source, Status
from dispatch.events.workflow import ManualClock
from dispatch.store import keys
from dispatch.store.tasks import TaskMovedError, TaskStore, TaskTakenError
from dispatch.store.workers import WorkerStore
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.notify import LogGateway, Notifier
from dispatch.tasks.service import TaskService, UnknownWorkerError
from dispatch.workers.models import LeaderTier, Worker, WorkerRole
from geo.locate import Locator
from tests.support import vault

T = TaskStatus
OPERATOR = Actor(name="op", role=Role.OPERATOR)
LEADER = Actor(name="boss", role=Role.LEADER)


@pytest.fixture
def world(store, demo_grids):
    clock = ManualClock(t=2_000_000_000.0)
    locator = Locator(demo_grids)
    intake = Intake(store=store.events, locator=locator, clock=clock, vault=vault())
    point = (103.8890, 30.8080)
    cell = locator.locate(*point)
    workers = WorkerStore.of(store)
    roster = [
        _worker("W1", cell.micro, role=WorkerRole.GRID_WORKER),
        _worker("W2", cell.micro, role=WorkerRole.PARTY_MEMBER),
        _worker("L1", cell.micro, role=WorkerRole.COMMUNITY_STAFF, leads=cell.general,
                tier=LeaderTier.GENERAL),
        _worker("L2", cell.micro, role=WorkerRole.COMMUNITY_STAFF, leads=cell.total,
                tier=LeaderTier.TOTAL),
    ]
    workers.replace_all(roster, actor="t", role="admin")
    # earlier tests' tasks of the same workers and clocks
    store._r.delete(keys.TASKS_ACCEPT_DUE, keys.TASKS_OPEN_COUNTS,
                    *(keys.worker_open_tasks(w.id) for w in roster))
    gateway = LogGateway()
    service = TaskService(tasks=TaskStore.of(store), events=store.events, workers=workers,
                          clock=clock, notifier=Notifier(gateway=gateway))
    grids = Scope(Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total]))

    def new_event(category: str = "05002") -> str:
        return intake.submit(Report(data=parse({"category": category, "lon": point[0],
                                                "lat": point[1], "description": "路灯不亮"}),
                                    source=Source.API), actor=OPERATOR).id

    return {"clock": clock, "service": service, "store": store, "new": new_event,
            "gateway": gateway, "w1": Actor(name="W1", role=Role.WORKER, scope=grids),
            "w2": Actor(name="W2", role=Role.WORKER, scope=grids)}


def _worker(wid: str, grid: str, *, role: WorkerRole, leads: str = "",
            tier: LeaderTier | None = None) -> Worker:
    return Worker(id=wid, name=f"工作者{wid}", phone="10012345678", role=role, grid=grid,
                  leads=leads, leader_tier=tier, skills=("05",), party_member=True,
                  home_lon=103.889, home_lat=30.808)


def _event_status(world, event_id: str) -> str:
    return world["store"].events.get(event_id)["status"]


def test_the_whole_life_from_assignment_to_the_call_back(world):
    svc, w1 = world["service"], world["w1"]
    event_id = world["new"]()
    assert _event_status(world, event_id) == Status.REPORTED
    task = svc.assign(event_id, "W1", actor=OPERATOR, note="先看现场")
    assert task["status"] == T.ASSIGNED and task["worker"]["phone"] == "100****5678"
    assert _event_status(world, event_id) == Status.DISPATCHED
    assert world["store"].events.get(event_id)["assignee"] == "W1"
    path = [(T.ACCEPTED, Status.SIGNED), (T.EN_ROUTE, Status.IN_PROGRESS),
            (T.ON_SITE, Status.IN_PROGRESS)]
    for target, event_status in path:
        world["clock"].advance(60)
        task = svc.step(task["id"], target, actor=w1)
        assert task["status"] == target and _event_status(world, event_id) == event_status
    task = svc.step(task["id"], T.RESOLVED, actor=w1, note="更换灯泡",
                    photos=["/api/v1/tasks/x/photos/a.jpg"])
    assert _event_status(world, event_id) == Status.FEEDBACK
    assert task["photos"] == ["/api/v1/tasks/x/photos/a.jpg"]
    task = svc.step(task["id"], T.VERIFIED, actor=OPERATOR)
    assert _event_status(world, event_id) == Status.VERIFIED
    task = svc.call_back(task["id"], Satisfaction.SATISFIED, actor=OPERATOR)
    assert task["status"] == T.CLOSED and task["satisfaction"] == "satisfied"
    stored = world["store"].events.get(event_id)
    assert stored["status"] == Status.CLOSED and stored["satisfaction"] == "satisfied"
    assert stored["note"] == "更换灯泡" and stored["task"] == ""
    assert set(task["steps"]) == {s.value for s in T} - {"declined", "returned"}
    kinds = [e["kind"] for e in world["store"].events.timeline(event_id)]
    assert kinds.count(ChangeKind.TASK) == 8  # assigned … closed, each with its actor
    assert svc.open_counts(["W1"]) == {}


def test_event_moves_follow_the_seven_steps(world):
    """Registered on the way (分流), every move a transition with the task named."""
    svc = world["service"]
    event_id = world["new"]()
    task = svc.assign(event_id, "W1", actor=OPERATOR)
    moves = [(e["before"], e["after"], e.get("task")) for e in
             world["store"].events.timeline(event_id) if e["kind"] == ChangeKind.TRANSITION]
    assert moves == [("reported", "registered", task["id"]),
                     ("registered", "dispatched", task["id"])]


def test_a_decline_needs_a_reason_and_the_event_is_reassigned(world):
    svc, w1 = world["service"], world["w1"]
    event_id = world["new"]()
    task = svc.assign(event_id, "W1", actor=OPERATOR)
    with pytest.raises(StepError) as err:
        svc.step(task["id"], T.DECLINED, actor=w1, reason="  ")
    assert err.value.field == "reason"
    task = svc.step(task["id"], T.DECLINED, actor=w1, reason="在外地培训")
    assert task["status"] == T.DECLINED and _event_status(world, event_id) == Status.RETURNED
    assert svc.open_counts(["W1"]) == {}
    again = svc.assign(event_id, "W2", actor=OPERATOR)  # 改派
    assert again["id"].endswith(".2") and _event_status(world, event_id) == Status.DISPATCHED
    assert svc.open_counts(["W1", "W2"]) == {"W2": 1}


def test_the_centre_takes_a_task_back_and_reassigns_it(world):
    svc, w2 = world["service"], world["w2"]
    event_id = world["new"]()
    task = svc.assign(event_id, "W2", actor=OPERATOR)
    svc.step(task["id"], T.ACCEPTED, actor=w2)
    task = svc.step(task["id"], T.RETURNED, actor=OPERATOR, reason="改派给专职网格员")
    assert task["reason"] == "改派给专职网格员"
    assert _event_status(world, event_id) == Status.RETURNED
    assert svc.assign(event_id, "W1", actor=OPERATOR)["worker"]["id"] == "W1"


def test_a_dissatisfied_resident_leaves_the_case_open_for_return(world):
    svc, w1 = world["service"], world["w1"]
    event_id = world["new"]()
    task = svc.assign(event_id, "W1", actor=OPERATOR)
    for target in (T.ACCEPTED, T.EN_ROUTE, T.ON_SITE):
        task = svc.step(task["id"], target, actor=w1)
    svc.step(task["id"], T.RESOLVED, actor=w1, note="已处理")
    svc.step(task["id"], T.VERIFIED, actor=OPERATOR)
    task = svc.call_back(task["id"], Satisfaction.DISSATISFIED, actor=OPERATOR)
    assert task["status"] == T.CALLED_BACK
    task = svc.step(task["id"], T.RETURNED, actor=OPERATOR, reason="居民不满意，重办")
    assert _event_status(world, event_id) == Status.REOPENED
    assert svc.assign(event_id, "W2", actor=OPERATOR)["status"] == T.ASSIGNED


def test_field_work_is_the_assigned_workers_alone(world):
    svc = world["service"]
    task = svc.assign(world["new"](), "W1", actor=OPERATOR)
    with pytest.raises(Forbidden):
        svc.step(task["id"], T.ACCEPTED, actor=world["w2"])
    with pytest.raises(StepError) as err:  # the centre cannot accept for the worker
        svc.step(task["id"], T.ACCEPTED, actor=OPERATOR)
    assert err.value.field == "role"
    with pytest.raises(StepError) as err:  # nor the worker verify their own work
        svc.step(task["id"], T.VERIFIED, actor=world["w1"])
    assert err.value.field == "status"


def test_a_leader_may_not_assign(world):
    with pytest.raises(Forbidden):
        world["service"].assign(world["new"](), "W1", actor=LEADER)


def test_unknown_workers_and_unassignable_events_are_named(world):
    svc = world["service"]
    event_id = world["new"]()
    with pytest.raises(UnknownWorkerError) as err:
        svc.assign(event_id, "NOBODY", actor=OPERATOR)
    assert err.value.worker_id == "NOBODY"
    svc.assign(event_id, "W1", actor=OPERATOR)
    with pytest.raises(StepError) as err2:
        svc.assign(event_id, "W2", actor=OPERATOR)
    assert err2.value.field == "status" and "dispatched" in str(err2.value)


def test_an_unaccepted_task_climbs_to_the_next_tiers_leader(world):
    svc, clock, gateway = world["service"], world["clock"], world["gateway"]
    task = svc.assign(world["new"](), "W1", actor=OPERATOR)
    assert [m.worker_id for m in gateway.sent] == ["W1"]
    assert f"{task['accept_minutes']} 分钟内接单" in gateway.sent[0].text
    limit = task["accept_due"] - clock.now()
    assert limit > 0
    clock.advance(limit - 1)
    assert svc.escalate_unaccepted() == 0
    clock.advance(2)
    assert svc.escalate_unaccepted() == 1
    view = svc.get(task["id"])
    assert view["escalation"] == {"level": 1, "tier": "general", "notified": "L1"}
    assert view["accept_overdue"] and gateway.sent[-1].worker_id == "L1"
    assert svc.escalate_unaccepted() == 0  # once per tier
    clock.advance(limit + 1)
    assert svc.escalate_unaccepted() == 1
    assert svc.get(task["id"])["escalation"]["notified"] == "L2"
    clock.advance(limit + 1)
    assert svc.escalate_unaccepted() == 1
    assert svc.get(task["id"])["escalation"]["tier"] == "street"
    clock.advance(10 * limit)
    assert svc.escalate_unaccepted() == 0  # the top: the centre's board shows it


def test_an_accepted_task_stops_its_acceptance_clock(world):
    svc, clock = world["service"], world["clock"]
    task = svc.assign(world["new"](), "W1", actor=OPERATOR)
    svc.step(task["id"], T.ACCEPTED, actor=world["w1"])
    clock.advance(24 * 3600)
    assert svc.escalate_unaccepted() == 0


def test_fifty_operators_assigning_one_event_at_once_make_one_task(world, store):
    """Fifty threads, each its own connection (one operator's session each)."""
    from dispatch.store import Store

    event_id = world["new"]()
    barrier = threading.Barrier(50)
    won, lost, errors = [], [], []

    def assign(i: int) -> None:
        own = Store.from_url(_url(store))
        svc = TaskService(tasks=TaskStore.of(own), events=own.events,
                          workers=WorkerStore.of(own), clock=world["clock"],
                          notifier=Notifier(gateway=LogGateway()))
        barrier.wait()
        try:
            won.append(svc.assign(event_id, "W1" if i % 2 else "W2",
                                  actor=Actor(name=f"op{i}", role=Role.OPERATOR)))
        except (TaskTakenError, TaskMovedError, StepError) as exc:
            lost.append(exc)
        except Exception as exc:
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(won) == 1 and len(lost) == 49
    winner = won[0]
    taken = [e for e in lost if isinstance(e, TaskTakenError)]
    assert all(e.worker_id == winner["worker"]["id"] for e in taken)
    kinds = [e["kind"] for e in store.events.timeline(event_id)]
    assert kinds.count(ChangeKind.TASK) == 1


def test_two_phones_accepting_at_once_make_one_acceptance(world, store):
    task = world["service"].assign(world["new"](), "W1", actor=OPERATOR)
    barrier = threading.Barrier(2)
    results = []

    def accept() -> None:
        barrier.wait()
        try:
            world["service"].step(task["id"], T.ACCEPTED, actor=world["w1"])
            results.append("ok")
        except (TaskMovedError, StepError) as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results)[-1] == "ok" and results.count("ok") == 1


def _url(store) -> str:
    kw = store._r.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw.get('db', 0)}"


def test_assignments_sent_together_are_each_checked_alone(world, store):
    """One round trip, one script call each: a taken event refuses only its own item."""
    from dispatch.store.tasks import EventMove, NewTask

    first, second = world["new"](), world["new"]()
    world["service"].assign(second, "W2", actor=OPERATOR)
    now = world["clock"].now()

    def task(event_id: str) -> NewTask:
        h = store.events.get(event_id)
        return NewTask(event_id=event_id, worker_id="W1", status=T.ASSIGNED.value,
                       moves=[EventMove(h["status"], Status.DISPATCHED.value, None)],
                       street=h["street"], now=now, actor="op", role="operator",
                       accept_due=None)

    results = TaskStore.of(store).assign_many([task(first), task(second)])
    assert isinstance(results[0], str) and results[0].startswith(first)
    assert isinstance(results[1], TaskTakenError) and results[1].worker_id == "W2"
    assert store.events.get(first)["assignee"] == "W1"
