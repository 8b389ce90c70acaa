"""The demo simulator reports through the real channels and works events through the steps."""

from __future__ import annotations

from collections import Counter

from dispatch.channels.iot.devices import DeviceRegistry
from dispatch.events.intake import Intake
from dispatch.events.service import EventFilter, EventService
from dispatch.events.workflow import SystemClock
from dispatch.simulate import Simulator
from dispatch.store import Store
from dispatch.store.devices import DeviceStore
from geo.locate import Locator
from tests.support import privacy, vault


def test_reports_from_every_channel_and_moves_them_on(redis_server, demo_grids):
    store = Store.from_url(redis_server.url)
    clock = SystemClock()
    locator = Locator(demo_grids)
    events = EventService(store=store.events, clock=clock, **privacy(store, clock))
    intake = Intake(store=store.events, locator=locator, vault=vault(), clock=clock)
    sim = Simulator(grids=demo_grids, intake=intake,
                    events=events, seed=7,
                    registry=DeviceRegistry(store=DeviceStore.of(store), locator=locator,
                                            clock=clock))
    ids = [sim.report_one() for _ in range(300)]
    assert sum(1 for i in ids if i) > 250
    views = [events.get(i) for i in dict.fromkeys(i for i in ids if i)]
    sources = Counter(v["source"] for v in views)
    assert {"worker", "resident", "12345", "iot", "open311", "online"} <= set(sources)
    assert any(v["count"] > 1 for v in views if v["source"] == "iot")  # flapping sensors fold
    for _ in range(30):
        sim.work_one_round()
    statuses = Counter(v["status"] for v in events.list(EventFilter(limit=1000)))
    assert len(statuses) >= 4  # events spread along the seven steps
    store.close()


def test_in_the_demo_the_duty_operator_dispatches_through_tasks(own_store, demo_grids,
                                                                cache_dir):
    """Every event the simulator dispatches has a task for a roster worker; wishes wait."""
    from dispatch.events.models import Status
    from dispatch.store.candidates import CandidateStore
    from dispatch.store.positions import PositionStore
    from dispatch.store.tasks import TaskStore
    from dispatch.store.workers import WorkerStore
    from dispatch.tasks.notify import LogGateway, Notifier
    from dispatch.tasks.recommend import DEFAULT_WEIGHTS, load_weights
    from dispatch.tasks.recommender import Recommender
    from dispatch.tasks.service import WISH_CATEGORY, TaskService
    from dispatch.workers.positions import PositionBook
    from dispatch.workers.roster import demo_roster

    store = own_store
    clock = SystemClock()
    locator = Locator(demo_grids)
    workers = WorkerStore.of(store)
    workers.replace_all(demo_roster(cache_dir, demo_grids, seed=42), actor="t", role="admin")
    tasks = TaskService(tasks=TaskStore.of(store), events=store.events, workers=workers,
                        clock=clock, notifier=Notifier(gateway=LogGateway()))
    recommender = Recommender(workers=workers, weights=load_weights(DEFAULT_WEIGHTS),
                              positions=PositionBook(store=PositionStore.of(store), clock=clock),
                              gather=CandidateStore.of(store))
    events = EventService(store=store.events, clock=clock, **privacy(store, clock))
    intake = Intake(store=store.events, locator=locator, vault=vault(), clock=clock)
    sim = Simulator(grids=demo_grids, intake=intake, events=events, seed=11, tasks=tasks,
                    recommender=recommender)
    made = [i for i in (sim.report_one() for _ in range(60)) if i]
    for _ in range(40):
        sim.work_one_round()
    views = [events.get(i) for i in dict.fromkeys(made)]
    dispatched = [v for v in views if v["status"] == Status.DISPATCHED]
    assert dispatched, "the duty operator dispatched nothing"
    for v in dispatched:
        assert v["task"] and workers.get(tasks.get(v["task"])["worker"]["id"]) is not None
    assert not any(v["task"] for v in views if v["category"]["code"] == WISH_CATEGORY)
