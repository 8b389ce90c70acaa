"""The demo's workers in the field, on a real Redis and a hand-moved clock: who reports,
where, how often, and tasks worked from assigned to resolved, one tick at a time."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import datetime

import numpy as np
import pytest
import shapely

from dispatch.access.roles import Actor, Role
from dispatch.events.intake import Intake, Report, parse
from dispatch.events.models import Source, Status
from dispatch.events.workflow import ManualClock
from dispatch.simulate_field import ACCURACY_M, DECLINE_REASONS, ROAM_M
from dispatch.simulate_workers import WorkerSimulator
from dispatch.store import keys
from dispatch.store.positions import PositionStore
from dispatch.store.tasks import TaskStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks.lifecycle import TaskStatus
from dispatch.tasks.notify import LogGateway, Notifier
from dispatch.tasks.service import TaskService
from dispatch.workers.models import DutyStatus, LeaderTier, Worker, WorkerRole
from dispatch.workers.roster import LOCAL_TZ, duty_at
from geo.locate import Locator
from tests.support import vault

T = TaskStatus
OPERATOR = Actor(name="op", role=Role.OPERATOR)
#: A Wednesday, 10:00 in Chengdu: professionals on their day shift, volunteers not.
MORNING = datetime(2027, 3, 3, 10, 0, tzinfo=LOCAL_TZ)
POINT = (103.8890, 30.8080)
RESERVED = "SIMW-R"


@pytest.fixture
def world(store, demo_grids):
    assert MORNING.weekday() == 2
    clock = ManualClock(t=MORNING.timestamp())
    locator = Locator(demo_grids)
    cell = locator.locate(*POINT)
    homes = _points_in(demo_grids.geometry(cell.micro), 10)
    roster = ([_worker(f"SIMW-P{n}", cell.micro, WorkerRole.GRID_WORKER, homes[n])
               for n in range(6)]
              + [_worker(f"SIMW-V{n}", cell.micro, WorkerRole.VOLUNTEER, homes[6 + n])
                 for n in range(3)]
              + [_worker(RESERVED, cell.micro, WorkerRole.GRID_WORKER, homes[9])])
    workers = WorkerStore.of(store)
    workers.replace_all(roster, actor="t", role="admin")
    positions = PositionStore.of(store)
    positions.forget(w.id for w in roster)
    store._r.delete(keys.TASKS_OPEN_COUNTS, *(keys.worker_open_tasks(w.id) for w in roster))
    tasks = TaskService(tasks=TaskStore.of(store), events=store.events, workers=workers,
                        clock=clock, notifier=Notifier(gateway=LogGateway()))
    intake = Intake(store=store.events, locator=locator, clock=clock, vault=vault())

    def simulator(**options) -> WorkerSimulator:
        return WorkerSimulator(grids=demo_grids, workers=workers, positions=positions,
                               tasks=tasks, task_store=TaskStore.of(store), events=store.events,
                               clock=clock, reserved={RESERVED},
                               **{"decline_share": 0.0, "seed": 3} | options)

    def new_event() -> str:
        data = parse({"category": "06002", "lon": POINT[0], "lat": POINT[1],
                      "description": "路灯不亮"})
        return intake.submit(Report(data=data, source=Source.API), actor=OPERATOR).id

    on_duty = {w.id for w in roster if duty_at(w, MORNING) is DutyStatus.ON_DUTY}
    assert len(on_duty - {RESERVED}) >= 3 and not any(i.startswith("SIMW-V") for i in on_duty)
    return {"clock": clock, "sim": simulator, "tasks": tasks, "new": new_event,
            "store": store, "positions": positions, "roster": {w.id: w for w in roster},
            "on_duty": on_duty, "locator": locator}


def _points_in(polygon, n: int) -> list[tuple[float, float]]:
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = polygon.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(polygon, x, y):
            out.append((round(x, 6), round(y, 6)))
    return out


def _worker(wid: str, grid: str, role: WorkerRole, home: tuple[float, float]) -> Worker:
    leads = {"leads": grid, "leader_tier": LeaderTier.MICRO} if wid == RESERVED else {}
    return Worker(id=wid, name=f"网格员{wid[-2:]}", phone="10012345678", role=role, grid=grid,
                  skills=("06",), home_lon=home[0], home_lat=home[1], **leads)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 111_320)


def _run(world, sim: WorkerSimulator, seconds: int, *, step: float = 1.0):
    reports, steps = [], []
    for _ in range(int(seconds / step)):
        world["clock"].advance(step)
        tick = sim.tick()
        reports += tick.reports
        steps += tick.steps
    return reports, steps


def test_on_duty_workers_report_near_home_and_off_duty_ones_do_not(world):
    sim = world["sim"]()
    reports, _ = _run(world, sim, 600)
    expected = world["on_duty"] - {RESERVED}
    per_worker = Counter(r[0] for r in reports)
    assert set(per_worker) == expected
    assert all(45 <= n <= 75 for n in per_worker.values()), per_worker  # every ~10 s
    locator, roster = world["locator"], world["roster"]
    for wid, lon, lat, _at, accuracy in reports:
        assert not locator.locate(lon, lat).outside
        home = (roster[wid].home_lon, roster[wid].home_lat)
        assert _metres((lon, lat), home) <= ROAM_M + accuracy
        assert ACCURACY_M[0] <= accuracy <= ACCURACY_M[-1]
    off = [w for w in roster if w not in expected]
    now = world["clock"].now()
    for p in world["positions"].get_many(off):  # only where the phone last was, hours ago
        assert p is None or now - p.at_ms / 1000 >= 1800
    stored = world["positions"].get_many(sorted(expected))
    assert all(p is not None and abs(p.at_ms / 1000 - world["clock"].now()) < 60 for p in stored)


def test_workers_move_at_walking_or_riding_pace(world):
    sim = world["sim"]()
    reports, _ = _run(world, sim, 900)
    by_worker: dict[str, list] = {}
    for wid, lon, lat, at, acc in reports:
        by_worker.setdefault(wid, []).append((at, lon, lat, acc))
    moved = 0
    for track in by_worker.values():
        track.sort()
        for (t0, x0, y0, a0), (t1, x1, y1, a1) in itertools.pairwise(track):
            gap = (t1 - t0) / 1000
            if gap <= 0:
                continue
            # GPS error on both fixes aside, nobody goes faster than an e-bike
            assert _metres((x0, y0), (x1, y1)) <= 4.0 * gap + a0 + a1 + 1
        first, last = track[0], track[-1]
        moved += _metres(first[1:3], last[1:3]) > 50
    assert moved >= 1


def test_late_and_repeated_reports_never_overwrite_a_newer_one(world):
    sim = world["sim"](late_share=0.3, duplicate_share=0.3)
    sent, stored = 0, 0
    newest: dict[str, int] = {}
    for _ in range(240):
        world["clock"].advance(1)
        tick = sim.tick()
        sent += len(tick.reports)
        stored += tick.stored
        for wid, _lon, _lat, at, _acc in tick.reports:
            newest[wid] = max(newest.get(wid, 0), at)
    assert stored < sent  # the store turned the stale ones away
    for p in world["positions"].get_many(sorted(newest)):
        assert p.at_ms == newest[p.worker_id]


def test_an_assigned_task_is_accepted_worked_and_resolved(world):
    sim = world["sim"]()
    sim.tick()
    worker = sorted(world["on_duty"] - {RESERVED})[0]
    event_id = world["new"]()
    task = world["tasks"].assign(event_id, worker, actor=OPERATOR)
    assigned_at = world["clock"].now()
    seen: list[tuple[TaskStatus, float]] = []
    reports = []
    for _ in range(1800):
        world["clock"].advance(2)
        tick = sim.tick()
        reports += [r for r in tick.reports if r[0] == worker]
        seen += [(s, world["clock"].now()) for t, s in tick.steps if t == task["id"]]
        if seen and seen[-1][0] is T.RESOLVED:
            break
    assert [s for s, _ in seen] == [T.ACCEPTED, T.EN_ROUTE, T.ON_SITE, T.RESOLVED]
    accepted_after = seen[0][1] - assigned_at
    assert 20 <= accepted_after <= 120 + 5 + 2  # plus a task poll and a tick
    on_site_at = seen[2][1]
    place = world["store"].events.get(event_id)
    there = (float(place["lon"]), float(place["lat"]))
    while_there = [r for r in reports if on_site_at <= r[3] / 1000 <= seen[3][1]]
    assert while_there and all(_metres((r[1], r[2]), there) <= r[4] + 1 for r in while_there)
    done = world["tasks"].get(task["id"])
    assert done["status"] == T.RESOLVED and done["note"]
    assert place["status"] == Status.FEEDBACK  # verification stays with the operator
    _, later = _run(world, sim, 120, step=2)
    assert not [s for t, s in later if t == task["id"]]


def test_a_task_is_sometimes_declined_with_a_reason(world):
    sim = world["sim"](decline_share=1.0)
    worker = sorted(world["on_duty"] - {RESERVED})[0]
    event_id = world["new"]()
    task = world["tasks"].assign(event_id, worker, actor=OPERATOR)
    _, steps = _run(world, sim, 200, step=2)
    assert [s for t, s in steps if t == task["id"]] == [T.DECLINED]
    declined = world["tasks"].get(task["id"])
    assert declined["reason"] in DECLINE_REASONS
    assert world["store"].events.get(event_id)["status"] == Status.RETURNED


def test_an_off_duty_worker_called_out_reports_until_the_task_is_resolved(world):
    sim = world["sim"]()
    event_id = world["new"]()
    task = world["tasks"].assign(event_id, "SIMW-V0", actor=OPERATOR)
    reports, steps = _run(world, sim, 1800, step=2)
    mine = [s for t, s in steps if t == task["id"]]
    assert mine == [T.ACCEPTED, T.EN_ROUTE, T.ON_SITE, T.RESOLVED]
    assert any(r[0] == "SIMW-V0" for r in reports)
    after, _ = _run(world, sim, 300, step=2)
    assert not any(r[0] == "SIMW-V0" for r in after)  # home again, the phone quiet


def test_the_reserved_demo_worker_is_never_simulated(world):
    assert RESERVED in world["on_duty"]
    sim = world["sim"]()
    event_id = world["new"]()
    task = world["tasks"].assign(event_id, RESERVED, actor=OPERATOR)
    reports, steps = _run(world, sim, 400, step=2)
    assert RESERVED not in sim.simulated() and RESERVED not in sim.active()
    assert not any(r[0] == RESERVED for r in reports)
    assert not any(t == task["id"] for t, _ in steps)
    assert world["tasks"].get(task["id"])["status"] == T.ASSIGNED
    assert world["positions"].get_many([RESERVED]) == [None]


def test_the_demo_worker_is_the_first_party_member_leading_a_micro_grid(cache_dir, demo_grids):
    from dashboard.demo_worker import DEMO_WORKER
    from dashboard.settings import Settings
    from dispatch.workers.roster import demo_roster

    roster = demo_roster(cache_dir, demo_grids, seed=Settings().demo_seed)
    first = next(w for w in roster if w.leader_tier is LeaderTier.MICRO and w.party_member)
    assert first.id == DEMO_WORKER
