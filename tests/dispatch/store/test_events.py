"""Intake and the event service against a real Redis, with a clock moved by hand.

The Redis server is shared with the rest of the session, so every count here is taken
before and after, never assumed to start at zero. The clock starts a year ahead of real
time, so nothing working on real time (a running escalator) ever sees these events as due.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import redis as redis_lib

from dispatch.access.roles import Actor, Role
from dispatch.events.intake import MAX_BATCH, Fault, Intake, IntakeError, Report
from dispatch.events.models import EventIn, Source, Status
from dispatch.events.service import EventFilter, EventService
from dispatch.events.workflow import ManualClock, TransitionError
from dispatch.store import Store
from dispatch.store.core import CHANGES
from dispatch.store.events import EventNotFoundError, StaleStatusError
from geo.locate import Locator
from geo.model import Tier
from tests.support import privacy, vault

OPERATOR = Actor("op-store", Role.OPERATOR)
WORKER = Actor("worker-store", Role.WORKER)
SYSTEM = Actor("system", Role.SYSTEM)
OUTSIDE = (103.5, 30.8)  # west of the district
HOUR = 3600.0
START = float(int(time.time()) + 365 * 86400)  # every test's clock starts here


@pytest.fixture(scope="module")
def locator(demo_grids) -> Locator:
    return Locator(demo_grids)


@pytest.fixture(scope="module")
def points(demo_grids) -> list[tuple[float, float]]:
    """A point well inside each of a spread of micro-grids (different streets)."""
    micro = demo_grids.tier(Tier.MICRO).sort_values("code")
    picks = micro.iloc[:: max(len(micro) // 40, 1)].geometry.representative_point()
    return [(p.x, p.y) for p in picks]


@pytest.fixture(scope="module")
def store(redis_server):
    s = Store.from_url(redis_server.url)
    yield s
    s.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(t=START)


@pytest.fixture
def intake(store, locator, clock) -> Intake:
    return Intake(store=store.events, locator=locator, clock=clock, vault=vault())


@pytest.fixture
def service(store, clock) -> EventService:
    return EventService(store=store.events, clock=clock, **privacy(store, clock))


@pytest.fixture(scope="module")
def redis(redis_server):
    """A plain client for looking at keys, streams and indices directly."""
    client = redis_lib.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


def _report(point, *, category="01001", source=Source.WORKER, description="垃圾堆放 rubbish",
            **kwargs) -> Report:
    data = EventIn(category=category, lon=point[0], lat=point[1], description=description)
    return Report(data=data, source=source, **kwargs)


def _kinds(service: EventService, event_id: str) -> list[str]:
    return [e["kind"] for e in service.get(event_id, timeline=True)["timeline"]]


def _state(redis, event_id: str) -> tuple:
    """Everything a write could touch for one event."""
    return (redis.hgetall(f"ev:{event_id}"), redis.llen(f"evlog:{event_id}"), redis.xlen(CHANGES),
            redis.zscore("idx:due", event_id),
            sorted(k for k in redis.scan_iter("idx:st:*") if redis.zscore(k, event_id)))


# --- the seven-step path --------------------------------------------------------------------

PATH = [
    (Status.REGISTERED, OPERATOR, {}),
    (Status.DISPATCHED, OPERATOR, {"assignee": "worker-store"}),
    (Status.SIGNED, WORKER, {}),
    (Status.IN_PROGRESS, WORKER, {}),
    (Status.FEEDBACK, WORKER, {"note": "cleared"}),
    (Status.VERIFIED, OPERATOR, {"satisfaction": "satisfied"}),
    (Status.CLOSED, OPERATOR, {}),
    (Status.ARCHIVED, SYSTEM, {}),
]


def test_create_then_the_full_path_to_closed_and_archived(intake, service, clock, redis, points):
    stream_before = redis.xlen(CHANGES)
    created = intake.submit(_report(points[0]), actor=WORKER)
    assert created.outcome == "created"
    event_id = created.id
    view = service.get(event_id)
    assert view["status"] == "reported" and view["rev"] == 1 and view["count"] == 1
    assert view["created_at"] == view["entered_at"] == clock.now()
    assert view["due_at"] == clock.now() + HOUR
    assert view["grid"]["street"] == view["grid"]["micro"][:9]

    before = Status.REPORTED
    for rev, (target, actor, extra) in enumerate(PATH, start=2):
        clock.advance(60)
        view = service.move(event_id, target, actor=actor, extra=extra)
        assert view["status"] == target.value and view["rev"] == rev
        assert view["entered_at"] == view["updated_at"] == clock.now()
        assert redis.zscore(f"idx:st:{target.value}", event_id) is not None
        assert redis.zscore(f"idx:st:{before.value}", event_id) is None
        before = target

    assert view["due_at"] is None and view["overdue"] is False
    assert redis.zscore("idx:due", event_id) is None
    stored = redis.hgetall(f"ev:{event_id}")
    assert stored["assignee"] == "worker-store" and stored["satisfaction"] == "satisfied"
    assert stored["note"] == "cleared"

    timeline = service.get(event_id, timeline=True)["timeline"]
    assert len(timeline) == 1 + len(PATH)
    assert redis.xlen(CHANGES) == stream_before + 1 + len(PATH)
    first = timeline[0]
    assert (first["kind"], first["actor"], first["role"], first["after"]) == (
        "event.created", "worker-store", "worker", "reported")
    assert "before" not in first  # nothing before creation
    expected = [("event.transition", a.name, a.role.value, b.value, t.value)
                for b, (t, a, _) in zip([Status.REPORTED] + [p[0] for p in PATH], PATH,
                                        strict=False)]
    assert [(e["kind"], e["actor"], e["role"], e["before"], e["after"])
            for e in timeline[1:]] == expected
    times = [e["at"] for e in timeline]
    assert times == sorted(times) and times[-1] == clock.now()
    seqs = [e["seq"] for e in timeline]
    assert len(set(seqs)) == len(seqs)


def test_illegal_moves_change_nothing(intake, service, redis, points):
    event_id = intake.submit(_report(points[1]), actor=WORKER).id
    before = _state(redis, event_id)
    attempts = [
        (Status.CLOSED, OPERATOR, ""),  # not a legal move from reported
        (Status.REPORTED, OPERATOR, ""),  # not even to itself
        (Status.REGISTERED, WORKER, ""),  # legal move, wrong role
        (Status.CANCELLED, OPERATOR, "  "),  # needs a reason
    ]
    for target, actor, reason in attempts:
        with pytest.raises(TransitionError):
            service.move(event_id, target, actor=actor, reason=reason)
        assert _state(redis, event_id) == before
    assert service.get(event_id)["rev"] == 1


def test_moving_an_unknown_event_says_so(service):
    with pytest.raises(EventNotFoundError):
        service.move("20990101-999999", Status.REGISTERED, actor=OPERATOR)
    with pytest.raises(EventNotFoundError):
        service.get("20990101-999999")


def test_a_reason_is_stored_and_cleared_by_the_next_move(intake, service, points):
    event_id = intake.submit(_report(points[2], source=Source.OPERATOR), actor=OPERATOR).id
    assert service.get(event_id)["status"] == "registered"
    service.move(event_id, Status.DISPATCHED, actor=OPERATOR, extra={"assignee": WORKER.name})
    view = service.move(event_id, Status.RETURNED, actor=WORKER, reason="不属于本网格")
    assert view["reason"] == "不属于本网格"
    assert service.get(event_id, timeline=True)["timeline"][-1]["reason"] == "不属于本网格"
    assert service.move(event_id, Status.DISPATCHED, actor=OPERATOR)["reason"] == ""


# --- concurrent moves -----------------------------------------------------------------------

def test_a_stale_read_loses_the_race_and_writes_nothing(intake, store, clock, redis, points):
    event_id = intake.submit(_report(points[3]), actor=WORKER).id
    stale = store.events.get(event_id)  # the second operator's screen, read earlier
    first = EventService(store=store.events, clock=clock, **privacy(store, clock))
    first.move(event_id, Status.REGISTERED, actor=OPERATOR)
    after_first = _state(redis, event_id)

    second = EventService(store=_StaleReads(store.events, stale), clock=clock,
                          **privacy(store, clock))
    with pytest.raises(TransitionError) as err:
        second.move(event_id, Status.CANCELLED, actor=OPERATOR, reason="duplicate")
    assert err.value.field == "status"
    assert isinstance(err.value.__cause__, StaleStatusError)
    assert err.value.__cause__.current == "registered"
    assert _state(redis, event_id) == after_first


def test_two_services_racing_one_wins_the_other_fails_cleanly(
        intake, redis_server, clock, redis, points):
    event_id = intake.submit(_report(points[4]), actor=WORKER).id
    stream_before = redis.xlen(CHANGES)
    barrier = threading.Barrier(2)
    stores = [Store.from_url(redis_server.url) for _ in range(2)]
    services = [EventService(store=_PausedFirstRead(s.events, barrier), clock=clock,
                             **privacy(s, clock))
                for s in stores]
    moves = [(Status.REGISTERED, ""), (Status.CANCELLED, "reported twice")]
    results: list[object] = [None, None]

    def run(i: int) -> None:
        target, reason = moves[i]
        try:
            results[i] = services[i].move(event_id, target, actor=OPERATOR, reason=reason)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    for s in stores:
        s.close()

    errors = [r for r in results if isinstance(r, Exception)]
    views = [r for r in results if isinstance(r, dict)]
    assert len(errors) == 1 and len(views) == 1, results
    assert isinstance(errors[0], TransitionError)
    assert isinstance(errors[0].__cause__, StaleStatusError)
    winner = views[0]["status"]
    stored = redis.hgetall(f"ev:{event_id}")
    assert stored["status"] == winner and stored["rev"] == "2"
    assert stored["reason"] == ("" if winner == "registered" else "reported twice")
    assert redis.xlen(CHANGES) == stream_before + 1
    # the creation's stream id is in the hash; the change list holds the one move
    assert stored["created_seq"] and redis.llen(f"evlog:{event_id}") == 1
    in_sets = [s for s in ("reported", "registered", "cancelled")
               if redis.zscore(f"idx:st:{s}", event_id) is not None]
    assert in_sets == [winner]


class _StaleReads:
    """An event store whose reads of one event return an earlier snapshot."""

    def __init__(self, inner, snapshot: dict[str, str]) -> None:
        self._inner, self._snapshot = inner, snapshot

    def get(self, event_id: str) -> dict[str, str]:
        return dict(self._snapshot) if event_id == self._snapshot["id"] else self._inner.get(
            event_id)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _PausedFirstRead:
    """Both racers finish their first read before either writes."""

    def __init__(self, inner, barrier: threading.Barrier) -> None:
        self._inner, self._barrier, self._paused = inner, barrier, False

    def get(self, event_id: str) -> dict[str, str]:
        data = self._inner.get(event_id)
        if not self._paused:
            self._paused = True
            self._barrier.wait(10)
        return data

    def __getattr__(self, name):
        return getattr(self._inner, name)


# --- idempotency and dedupe -----------------------------------------------------------------

def test_the_same_idempotency_key_stores_one_event(intake, store, redis, points):
    key = f"idem-{uuid.uuid4()}"
    all_before, stream_before = store.events.count("idx:all"), redis.xlen(CHANGES)
    first = intake.submit(_report(points[5], idempotency_key=key), actor=WORKER)
    second = intake.submit(_report(points[5], idempotency_key=key), actor=WORKER)
    assert (first.outcome, second.outcome) == ("created", "repeat")
    assert second.id == first.id
    assert store.events.count("idx:all") == all_before + 1
    assert redis.xlen(CHANGES) == stream_before + 1
    assert store.events.get(first.id)["count"] == "1"


def test_a_repeat_within_one_batch_is_also_one_event(intake, store, points):
    key = f"idem-{uuid.uuid4()}"
    before = store.events.count("idx:all")
    out = intake.submit_many([_report(points[5], idempotency_key=key)] * 2, actor=WORKER)
    assert [c.outcome for c in out] == ["created", "repeat"] and out[0].id == out[1].id
    assert store.events.count("idx:all") == before + 1


def test_a_duplicate_inside_the_window_folds_into_the_open_event(
        intake, service, store, clock, points):
    dedupe = f"cam-7:{uuid.uuid4()}"
    report = _report(points[6], category="20002", source=Source.IOT, dedupe_key=dedupe,
                     dedupe_window_s=600)
    before = store.events.count("idx:all")
    first = intake.submit(report, actor=Actor("cam-7", Role.DEVICE))
    clock.advance(30)
    again = intake.submit(report, actor=Actor("cam-7", Role.DEVICE))
    assert (first.outcome, again.outcome) == ("created", "folded") and again.id == first.id
    assert store.events.count("idx:all") == before + 1
    view = service.get(first.id, timeline=True)
    assert view["count"] == 2 and view["rev"] == 2 and view["status"] == "reported"
    assert view["updated_at"] == clock.now()
    repeated = view["timeline"][-1]
    assert (repeated["kind"], repeated["count"], repeated["before"], repeated["after"]) == (
        "event.repeated", "2", "reported", "reported")
    assert repeated["actor"] == "cam-7" and repeated["role"] == "device"
    # Folding is not a move: the clock of the step keeps running from the first report.
    assert view["entered_at"] == view["created_at"]


def test_a_duplicate_within_one_batch_folds_too(intake, service, points):
    dedupe = f"batch:{uuid.uuid4()}"
    reports = [_report(points[6], dedupe_key=dedupe, dedupe_window_s=600)] * 3
    out = intake.submit_many(reports, actor=WORKER)
    assert [c.outcome for c in out] == ["created", "folded", "folded"]
    assert len({c.id for c in out}) == 1
    assert service.get(out[0].id)["count"] == 3


def test_after_the_event_is_closed_a_duplicate_opens_a_new_one(intake, service, points):
    dedupe = f"closed:{uuid.uuid4()}"
    report = _report(points[7], source=Source.OPERATOR, dedupe_key=dedupe, dedupe_window_s=600)
    first = intake.submit(report, actor=OPERATOR).id
    service.move(first, Status.CANCELLED, actor=OPERATOR, reason="resolved by phone")
    again = intake.submit(report, actor=OPERATOR)
    assert again.outcome == "created" and again.id != first
    assert service.get(first)["count"] == 1
    # The new event is now the one later duplicates fold into.
    third = intake.submit(report, actor=OPERATOR)
    assert (third.outcome, third.id) == ("folded", again.id)


def test_after_the_window_a_duplicate_opens_a_new_event(intake, service, points):
    # The window is a Redis expiry, so it runs on the server's clock: wait it out for real.
    dedupe = f"window:{uuid.uuid4()}"
    report = _report(points[8], dedupe_key=dedupe, dedupe_window_s=0.2)
    first = intake.submit(report, actor=WORKER)
    time.sleep(0.4)
    again = intake.submit(report, actor=WORKER)
    assert again.outcome == "created" and again.id != first.id
    assert service.get(first.id)["count"] == 1


# --- batches ----------------------------------------------------------------------------------

def test_one_report_outside_the_district_stores_nothing(intake, store, redis, points):
    reports = [_report(p) for p in points[:5]]
    reports.insert(3, _report(OUTSIDE))
    before = _totals(store, redis)
    with pytest.raises(IntakeError) as err:
        intake.submit_many(reports, actor=WORKER)
    assert err.value.fault is Fault.INVALID
    assert [(p.index, p.field) for p in err.value.problems] == [(3, "lon,lat")]
    assert "outside" in err.value.problems[0].message
    assert _totals(store, redis) == before


def _totals(store, redis) -> tuple:
    """Event count, stream length and every day's id sequence."""
    days = sorted(redis.scan_iter("ev:seq:*"))
    return store.events.count("idx:all"), redis.xlen(CHANGES), [(d, redis.get(d)) for d in days]


def test_a_single_report_outside_the_district_has_no_index(intake):
    with pytest.raises(IntakeError) as err:
        intake.submit(_report(OUTSIDE), actor=WORKER)
    assert [(p.index, p.field) for p in err.value.problems] == [(None, "lon,lat")]


def test_a_batch_over_the_limit_is_refused_before_anything_is_located(intake, store, points):
    before = store.events.count("idx:all")
    with pytest.raises(IntakeError) as err:
        intake.submit_many([_report(points[0])] * (MAX_BATCH + 1), actor=WORKER)
    assert err.value.fault is Fault.TOO_LARGE and err.value.problems[0].field == "events"
    assert store.events.count("idx:all") == before


def test_a_full_batch_is_stored_with_every_index(intake, store, service, redis, points):
    before = store.events.count("idx:all")
    reports = [_report(points[i % len(points)]) for i in range(MAX_BATCH)]
    out = intake.submit_many(reports, actor=WORKER)
    assert len(out) == MAX_BATCH and len({c.id for c in out}) == MAX_BATCH
    assert {c.outcome for c in out} == {"created"}
    assert store.events.count("idx:all") == before + MAX_BATCH
    sample = service.get(out[-1].id)
    for tier in ("micro", "general", "total"):
        assert redis.zscore(f"idx:grid:{sample['grid'][tier]}", sample["id"]) is not None
    assert redis.zscore(f"idx:street:{sample['grid']['street']}", sample["id"]) is not None
    assert redis.zscore("idx:cat:01001", sample["id"]) is not None


def test_an_empty_batch_stores_nothing(store, redis):
    before = redis.xlen(CHANGES)
    assert store.events.create_many([]) == []
    assert redis.xlen(CHANGES) == before


# --- clocks and escalation --------------------------------------------------------------------

def test_a_routine_event_past_its_limit_is_overdue(intake, service, clock, points):
    event_id = intake.submit(_report(points[9]), actor=WORKER).id
    clock.advance(HOUR)
    view = service.get(event_id)
    assert view["overdue"] is False and view["escalation"] == {"level": 0, "tier": "micro"}
    clock.advance(1)
    assert service.get(event_id)["overdue"] is True
    overdue = service.list(EventFilter(overdue=True, limit=1000, since=view["created_at"],
                                       until=view["created_at"]))
    assert event_id in [v["id"] for v in overdue]
    on_time = service.list(EventFilter(overdue=False, limit=1000, since=view["created_at"],
                                       until=view["created_at"]))
    assert event_id not in [v["id"] for v in on_time]


def test_overdue_work_climbs_one_tier_per_missed_limit(intake, service, clock, points):
    event_id = intake.submit(_report(points[10]), actor=WORKER).id

    def escalations() -> list[tuple[str, str]]:
        timeline = service.get(event_id, timeline=True)["timeline"]
        return [(e["level"], e["tier"]) for e in timeline if e["kind"] == "event.escalated"]

    clock.advance(HOUR)
    service.escalate_overdue()
    assert escalations() == []
    steps = [("1", "general"), ("2", "total"), ("3", "street")]
    for n, step in enumerate(steps, start=1):
        clock.advance(HOUR if n > 1 else 1)
        assert service.escalate_overdue() >= 1
        view = service.get(event_id)
        assert view["escalation"] == {"level": int(step[0]), "tier": step[1]}
        assert view["overdue"] is True and view["status"] == "reported"
        assert escalations() == steps[:n]
        # The same round again changes nothing, for this event or any other.
        rev = view["rev"]
        assert service.escalate_overdue() == 0
        assert service.get(event_id)["rev"] == rev and escalations() == steps[:n]
    clock.advance(30 * HOUR)  # capped at the street centre
    service.escalate_overdue()
    assert escalations() == steps
    entry = service.get(event_id, timeline=True)["timeline"][-1]
    assert (entry["actor"], entry["role"], entry["before"], entry["after"]) == (
        "system", "system", "reported", "reported")


def test_an_escalation_computed_before_a_move_is_not_applied_after_it(
        intake, service, store, clock, points):
    event_id = intake.submit(_report(points[11]), actor=WORKER).id
    clock.advance(2 * HOUR)
    old = store.events.get(event_id)
    service.move(event_id, Status.REGISTERED, actor=OPERATOR)
    assert not store.events.escalate(event_id, status=old["status"], entered=old["entered_at"],
                                     level=2, tier="total", now=clock.now())
    assert service.get(event_id)["escalation"]["level"] == 0


def test_a_move_restarts_the_clock(intake, service, clock, points):
    event_id = intake.submit(_report(points[12]), actor=WORKER).id
    clock.advance(2 * HOUR + 1)
    service.escalate_overdue()
    assert service.get(event_id)["escalation"]["level"] == 2
    view = service.move(event_id, Status.REGISTERED, actor=OPERATOR)
    assert view["entered_at"] == clock.now() and view["due_at"] == clock.now() + HOUR
    assert view["overdue"] is False and view["escalation"] == {"level": 0, "tier": "micro"}
    # The new step escalates from zero again, on its own limit.
    clock.advance(HOUR + 1)
    service.escalate_overdue()
    assert service.get(event_id)["escalation"] == {"level": 1, "tier": "general"}


def test_clocks_survive_a_restart(intake, service, redis_server, clock, points):
    event_id = intake.submit(_report(points[13], category="04001"), actor=WORKER).id
    created = service.get(event_id)
    assert created["severity"] == "urgent" and created["due_at"] == clock.now() + 5 * 60
    clock.advance(6 * 60)
    service.escalate_overdue()
    before = service.get(event_id)
    assert before["overdue"] is True and before["escalation"]["level"] == 1

    restarted = Store.from_url(redis_server.url)
    try:
        fresh = EventService(store=restarted.events, clock=ManualClock(t=clock.now()),
                             **privacy(restarted, clock))
        after = fresh.get(event_id)
        assert after == before
        assert after["due_at"] == created["due_at"]
        fresh._clock.advance(5 * 60)  # one more limit on the new process's clock
        fresh.escalate_overdue()
        assert fresh.get(event_id)["escalation"] == {"level": 2, "tier": "total"}
    finally:
        restarted.close()


def test_a_backlog_of_overdue_events_does_not_starve_newer_ones(intake, service, clock, points):
    # More events than one round reads are long overdue and already at the top tier.
    old = intake.submit_many([_report(points[i % len(points)]) for i in range(MAX_BATCH)],
                             actor=WORKER)
    intake.submit_many([_report(points[i % len(points)]) for i in range(MAX_BATCH)],
                       actor=WORKER)
    clock.advance(10 * HOUR)
    service.escalate_overdue()
    assert service.get(old[0].id)["escalation"]["tier"] == "street"
    newer = intake.submit(_report(points[14]), actor=WORKER).id
    clock.advance(HOUR + 1)
    service.escalate_overdue()
    assert service.get(newer)["escalation"] == {"level": 1, "tier": "general"}


def test_upgrade_rescales_second_scores_once(store, redis):
    """Indices written in seconds by an older version become milliseconds, once."""
    redis.delete("config:layout")
    redis.zadd("idx:grid:upgrade-test", {"20240101-000001": 1_704_067_200.25,
                                         "20240101-000002": 1_704_067_260_000})
    changed = store.upgrade_layout()
    assert changed >= 1
    assert redis.zscore("idx:grid:upgrade-test", "20240101-000001") == 1_704_067_200_250
    assert redis.zscore("idx:grid:upgrade-test", "20240101-000002") == 1_704_067_260_000
    assert store.upgrade_layout() == 0  # recorded: not run again
    assert store.events.ids("idx:grid:upgrade-test", since=1_704_067_200.0,
                            until=1_704_067_230.0) == ["20240101-000001"]
    redis.delete("idx:grid:upgrade-test")
