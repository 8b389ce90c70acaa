"""The wish wall on a real Redis: a wish from posting to done, who may publish and claim, and
what the wall shows each caller."""

from __future__ import annotations

import pytest

from dispatch.access.policy import Forbidden
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.intake import Intake, Report, parse
from dispatch.events.models import Satisfaction, Source, Status
from dispatch.events.service import EventService
from dispatch.events.workflow import ManualClock
from dispatch.store import keys
from dispatch.store.tasks import TaskStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.notify import LogGateway, Notifier
from dispatch.tasks.service import TaskService
from dispatch.tasks.wishes import WISH_CATEGORY, WishState, WishWall, wish_state
from dispatch.workers.models import Worker, WorkerRole
from geo.locate import Locator
from tests.support import privacy, vault

T = TaskStatus
OPERATOR = Actor(name="op", role=Role.OPERATOR)
RESIDENT = Actor(name="resident", role=Role.RESIDENT)
POINT = (103.8890, 30.8080)


@pytest.fixture
def world(store, demo_grids):
    clock = ManualClock(t=2_000_000_000.0)
    locator = Locator(demo_grids)
    intake = Intake(store=store.events, locator=locator, clock=clock, vault=vault())
    cell = locator.locate(*POINT)
    roster = [_worker("WISH-P1", cell.micro, party=True),
              _worker("WISH-P2", cell.micro, party=True),
              _worker("WISH-N1", cell.micro, party=False)]
    WorkerStore.of(store).replace_all(roster, actor="t", role="admin")
    store._r.delete(keys.TASKS_OPEN_COUNTS, *(keys.worker_open_tasks(w.id) for w in roster))
    tasks = TaskService(tasks=TaskStore.of(store), events=store.events,
                        workers=WorkerStore.of(store), clock=clock,
                        notifier=Notifier(gateway=LogGateway()))
    events = EventService(store=store.events, clock=clock, **privacy(store, clock))
    wall = WishWall(events=events, store=store.events, tasks=tasks)
    grids = Scope(Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total]))

    def post(category: str = WISH_CATEGORY) -> str:
        data = parse({"category": category, "lon": POINT[0], "lat": POINT[1],
                      "description": "希望帮忙修理轮椅"})
        return intake.submit(Report(data=data, source=Source.RESIDENT), actor=RESIDENT).id

    def worker(wid: str) -> Actor:
        return Actor(name=wid, role=Role.WORKER, scope=grids)

    return {"wall": wall, "tasks": tasks, "post": post, "worker": worker, "store": store,
            "clock": clock, "scope": grids}


def _worker(wid: str, grid: str, *, party: bool) -> Worker:
    return Worker(id=wid, name=f"党员{wid}", phone="10012345678", role=WorkerRole.VOLUNTEER,
                  grid=grid, party_member=party, skills=("14",), home_lon=POINT[0],
                  home_lat=POINT[1])


def _state_of(wall: WishWall, event_id: str, actor: Actor = OPERATOR) -> str | None:
    for state, views in wall.list(actor=actor, limit=1000).items():
        if any(v["id"] == event_id for v in views):
            return state
    return None


def test_a_wish_from_posting_to_done(world):
    wall, tasks = world["wall"], world["tasks"]
    before = wall.counts()
    event_id = world["post"]()
    assert _state_of(wall, event_id) == WishState.SUBMITTED
    published = wall.publish(event_id, actor=OPERATOR)
    assert published["status"] == Status.REGISTERED
    assert _state_of(wall, event_id) == WishState.PUBLISHED
    p1 = world["worker"]("WISH-P1")
    task = wall.claim(event_id, actor=p1, note="周六上午上门")
    assert task["claimed"] and task["worker"]["id"] == "WISH-P1"
    assert task["status"] == T.ASSIGNED and task["accept_due"] is None
    assert _state_of(wall, event_id) == WishState.CLAIMED
    claimed = next(v for v in wall.list(actor=OPERATOR)[WishState.CLAIMED] if v["id"] == event_id)
    assert claimed["task"] == task["id"] and claimed["wish_state"] == WishState.CLAIMED
    for target in (T.ACCEPTED, T.EN_ROUTE, T.ON_SITE):
        tasks.step(task["id"], target, actor=p1)
    tasks.step(task["id"], T.RESOLVED, actor=p1, note="轮椅已修好")
    tasks.step(task["id"], T.VERIFIED, actor=OPERATOR)
    tasks.call_back(task["id"], Satisfaction.SATISFIED, actor=OPERATOR)
    assert _state_of(wall, event_id) == WishState.DONE
    after = wall.counts()
    assert after[WishState.DONE] == before[WishState.DONE] + 1
    assert {s: after[s] - before[s] for s in WishState if s is not WishState.DONE} == {
        WishState.SUBMITTED: 0, WishState.PUBLISHED: 0, WishState.CLAIMED: 0}


def test_counts_follow_each_step(world):
    wall = world["wall"]
    before = wall.counts()
    event_id = world["post"]()
    assert wall.counts()[WishState.SUBMITTED] == before[WishState.SUBMITTED] + 1
    wall.publish(event_id, actor=OPERATOR)
    assert wall.counts()[WishState.PUBLISHED] == before[WishState.PUBLISHED] + 1
    wall.claim(event_id, actor=world["worker"]("WISH-P2"))
    now = wall.counts()
    assert now[WishState.CLAIMED] == before[WishState.CLAIMED] + 1
    assert now[WishState.SUBMITTED] == before[WishState.SUBMITTED]


def test_only_party_members_claim(world):
    event_id = world["post"]()
    world["wall"].publish(event_id, actor=OPERATOR)
    with pytest.raises(StepError) as caught:
        world["wall"].claim(event_id, actor=world["worker"]("WISH-N1"))
    assert caught.value.field == "worker"
    assert _state_of(world["wall"], event_id) == WishState.PUBLISHED


def test_only_wishes_are_claimed_even_through_the_service(world):
    event_id = world["post"]("06002")
    with pytest.raises(StepError) as caught:
        world["wall"].claim(event_id, actor=world["worker"]("WISH-P1"))
    assert caught.value.field == "category"
    with pytest.raises(StepError) as caught:
        world["tasks"].assign(event_id, "WISH-P1", actor=world["worker"]("WISH-P1"),
                              claim=True)
    assert caught.value.field == "category"
    with pytest.raises(StepError) as caught:
        world["wall"].publish(event_id, actor=OPERATOR)
    assert caught.value.field == "category"


def test_the_service_refuses_a_claim_by_a_non_member(world):
    event_id = world["post"]()
    with pytest.raises(StepError) as caught:
        world["tasks"].assign(event_id, "WISH-N1", actor=world["worker"]("WISH-N1"),
                              claim=True)
    assert caught.value.field == "worker"


def test_a_wish_is_claimed_once_published_and_only_once(world):
    wall = world["wall"]
    event_id = world["post"]()
    with pytest.raises(StepError) as caught:
        wall.claim(event_id, actor=world["worker"]("WISH-P1"))
    assert caught.value.field == "status"
    wall.publish(event_id, actor=OPERATOR)
    with pytest.raises(StepError) as caught:
        wall.publish(event_id, actor=OPERATOR)
    assert caught.value.field == "status"
    wall.claim(event_id, actor=world["worker"]("WISH-P1"))
    with pytest.raises(StepError) as caught:
        wall.claim(event_id, actor=world["worker"]("WISH-P2"))
    assert caught.value.field == "status"


def test_a_declined_claim_puts_the_wish_back_on_the_wall(world):
    wall, tasks = world["wall"], world["tasks"]
    event_id = world["post"]()
    wall.publish(event_id, actor=OPERATOR)
    p1 = world["worker"]("WISH-P1")
    task = wall.claim(event_id, actor=p1)
    tasks.step(task["id"], T.DECLINED, actor=p1, reason="临时有事")
    assert _state_of(wall, event_id) == WishState.PUBLISHED
    again = wall.claim(event_id, actor=world["worker"]("WISH-P2"))
    assert again["worker"]["id"] == "WISH-P2"


def test_workers_claim_but_do_not_publish_and_the_centre_does_not_claim(world):
    wall = world["wall"]
    event_id = world["post"]()
    with pytest.raises(Forbidden):
        wall.publish(event_id, actor=world["worker"]("WISH-P1"))
    wall.publish(event_id, actor=OPERATOR)
    with pytest.raises(Forbidden):
        wall.claim(event_id, actor=Actor(name="WISH-P1", role=Role.OPERATOR))


def test_a_worker_sees_and_claims_wishes_of_their_own_grids_only(world, demo_grids):
    wall = world["wall"]
    event_id = world["post"]()
    wall.publish(event_id, actor=OPERATOR)
    elsewhere = Scope(Reach.GRIDS, frozenset({"00000000000000000"}))
    stranger = Actor(name="WISH-P1", role=Role.WORKER, scope=elsewhere)
    assert _state_of(wall, event_id, stranger) is None
    assert wall.counts(elsewhere) == {s.value: 0 for s in WishState}
    with pytest.raises(Forbidden):
        wall.claim(event_id, actor=stranger)
    assert _state_of(wall, event_id, world["worker"]("WISH-P1")) == WishState.PUBLISHED
    assert wall.counts(world["scope"])[WishState.PUBLISHED] >= 1


def test_wish_states_by_event_status():
    assert wish_state(Status.REPORTED) is WishState.SUBMITTED
    assert wish_state(Status.REGISTERED) is WishState.PUBLISHED
    assert wish_state(Status.RETURNED, task="") is WishState.PUBLISHED
    assert wish_state(Status.DISPATCHED, task="x.1") is WishState.CLAIMED
    assert wish_state(Status.FEEDBACK) is WishState.CLAIMED
    assert wish_state(Status.CLOSED) is WishState.DONE
    assert wish_state(Status.CANCELLED) is None
