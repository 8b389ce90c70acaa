"""The sweep on a real Redis: reports by household and by building, checked against the base
and the scope, special populations first, help raised as drill events, and a purge that leaves
nothing of the drill behind (and nothing of real work touched)."""

from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.access.roles import Actor, Role
from dispatch.drills.models import DrillAction, DrillChange, DrillIn, HouseholdStatus
from dispatch.drills.sweep import EmptyBuildingError, SweepBatch, SweepDesk, SweepItem
from dispatch.events.intake import Intake, Report, parse
from dispatch.events.models import Source
from dispatch.events.service import EventFilter, EventService
from dispatch.households.base import HouseholdBase
from dispatch.households.models import Household, SpecialTag, household_id
from dispatch.privacy.audit import AuditLog
from dispatch.store import keys
from dispatch.store.audit import AuditStore
from dispatch.store.drills import DrillStateError, UnknownHouseholdError
from dispatch.store.households import HouseholdStore
from tests.dispatch.drills.world import COORDINATOR, POINT, locator, make_world
from tests.support import vault

H = HouseholdStatus
SWEEPER = Actor(name="DW1", role=Role.WORKER)


@pytest.fixture
def world(own_store, demo_grids):
    households = HouseholdStore.of(own_store)
    w = make_world(own_store, demo_grids, households=households)
    base_list = [Household(id=household_id(w.micro, b, n), address=f"{b}栋1单元{n:02d}0{n}",
                           head=f"住户{b}{n}", phone=f"100{b:04d}{n:04d}",
                           tags=_tags(b, n)) for b in (1, 2) for n in range(1, 6)]
    other = "51011700900000001"  # a micro-grid code of another street, for the scope check
    base_list.append(Household(id=household_id(other, 1, 1), address="1栋", head="外人"))
    base = HouseholdBase(store=households, vault=vault())
    base.load(base_list)
    intake = Intake(store=own_store.events, locator=locator(demo_grids), clock=w.clock,
                    vault=vault())
    desk = SweepDesk(store=w.store, households=households, base=base, intake=intake,
                     grids=demo_grids, vault=vault(), clock=w.clock)
    spec = DrillIn(kind="sweep", scope=w.street, scenario="flood")
    drill_id = w.service.plan(spec, actor=COORDINATOR)["id"]
    w.service.act(drill_id, DrillAction.START, actor=COORDINATOR)
    events = EventService(store=own_store.events, clock=w.clock, vault=vault(),
                          audit=AuditLog(store=AuditStore.of(own_store), clock=w.clock))
    return {"w": w, "desk": desk, "drill": drill_id, "redis": own_store, "intake": intake,
            "events": events, "other": other}


def _tags(building: int, n: int) -> tuple[SpecialTag, ...]:
    if (building, n) == (1, 4):
        return (SpecialTag.ELDERLY_ALONE,)
    if (building, n) == (2, 2):
        return (SpecialTag.DISABLED,)
    return ()


def _batch(*items: tuple[str, str, str]) -> SweepBatch:
    """(household or building, id, status)."""
    return SweepBatch(reports=[SweepItem(**{what: target, "status": status})
                               for what, target, status in items])


def test_households_and_whole_buildings_are_counted_once(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    one = household_id(w.micro, 1, 1)
    w.clock.advance(60)
    got = desk.report(drill, _batch(("household", one, "safe"),
                                    ("building", f"{w.micro}-02", "not_home")), actor=SWEEPER)
    assert (got["new"], got["swept"], got["reported"], got["t"]) == (6, 6, 6, 60.0)
    w.clock.advance(30)
    again = desk.report(drill, _batch(("household", one, "needs_help")), actor=SWEEPER)
    assert (again["new"], again["swept"]) == (0, 6)
    assert w.store.household_states(drill, [one]) == {one: "needs_help"}
    assert desk.progress(drill)["grids"][w.micro] == [6, 10]
    assert w.service.view(drill)["progress"] == {"total": 10, "done": 6, "share": 0.6,
                                                  "steps": {}}
    reports = [f for _, f in w.store.log(drill) if f["kind"] == DrillChange.SWEPT]
    assert [(r["t"], r["new"], r["worker"]) for r in reports] == [("60.0", "6", "DW1"),
                                                                 ("90.0", "0", "DW1")]


def test_an_unknown_household_stores_nothing_of_its_batch(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    good = household_id(w.micro, 1, 1)
    with pytest.raises(UnknownHouseholdError, match=f"{w.micro}-01-099"):
        desk.report(drill, _batch(("household", good, "safe"),
                                  ("household", f"{w.micro}-01-099", "safe")), actor=SWEEPER)
    with pytest.raises(UnknownHouseholdError, match=world["other"]):  # outside the scope
        desk.report(drill, _batch(("household", household_id(world["other"], 1, 1), "safe")),
                    actor=SWEEPER)
    with pytest.raises(EmptyBuildingError, match="-07"):
        desk.report(drill, _batch(("building", f"{w.micro}-07", "safe")), actor=SWEEPER)
    assert w.store.reached(drill) == {} and desk.progress(drill)["done"] == 0


def test_exactly_one_of_household_or_building():
    with pytest.raises(ValueError, match="exactly one of household or building"):
        SweepItem(status=H.SAFE)


def test_reports_wait_while_the_drill_is_paused(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    w.service.act(drill, DrillAction.PAUSE, actor=COORDINATOR)
    with pytest.raises(DrillStateError, match="'paused'"):
        desk.report(drill, _batch(("household", household_id(w.micro, 1, 1), "safe")),
                    actor=SWEEPER)


def test_special_populations_not_reached_come_first_in_the_scenario_order(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    pending = desk.pending_priority(drill)
    # flood puts the disabled before the elderly living alone
    assert [p["id"] for p in pending] == [household_id(w.micro, 2, 2),
                                          household_id(w.micro, 1, 4)]
    assert pending[0]["phone"].count("*") == 4 and "*" in pending[0]["head"]
    desk.report(drill, _batch(("building", f"{w.micro}-02", "safe")), actor=SWEEPER)
    assert [p["id"] for p in desk.pending_priority(drill)] == [household_id(w.micro, 1, 4)]


def test_a_household_needing_help_becomes_a_drill_event_once(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    hh = household_id(w.micro, 1, 3)
    got = desk.report(drill, SweepBatch(reports=[SweepItem(household=hh, status=H.NEEDS_HELP,
                                                           note="需要送药")]), actor=SWEEPER)
    assert len(got["events"]) == 1
    event = world["redis"].events.get(got["events"][0])
    assert event["drill"] == drill and event["category"] == "13001"
    assert event["micro"] == w.micro and "演练" in event["description"]
    again = desk.report(drill, _batch(("household", hh, "needs_help")), actor=SWEEPER)
    assert again["events"] == got["events"]  # the same household raises one event
    assert w.store.events(drill) == set(got["events"])
    helps = [f for _, f in w.store.log(drill) if f["kind"] == DrillChange.HELP]
    assert helps[0]["household"] == hh and helps[0]["event"] == got["events"][0]


def test_drill_events_stay_out_of_real_figures(world):
    w, desk, drill = world["w"], world["desk"], world["drill"]
    real = _real_event(world)
    got = desk.report(drill, _batch(("household", household_id(w.micro, 1, 2), "needs_help")),
                      actor=SWEEPER)
    listed = world["events"].list(EventFilter(exercise=False))
    assert [v["id"] for v in listed] == [real]
    exercise = world["events"].list(EventFilter(exercise=True))
    assert [v["id"] for v in exercise] == got["events"] and exercise[0]["drill"] == drill


def test_purge_removes_the_drill_whole_and_leaves_real_work(world):
    w, desk, drill, redis_store = world["w"], world["desk"], world["drill"], world["redis"]
    real = _real_event(world)
    got = desk.report(drill, _batch(("household", household_id(w.micro, 1, 2), "needs_help")),
                      actor=SWEEPER)
    desk.publish_slots(drill, start=datetime(2033, 5, 18, 9, 0), actor=COORDINATOR)
    assert desk.slots_for(w.micro)
    event_id = got["events"][0]
    before = {sid for sid, f in redis_store.changes_reader.after("0-0") if f.get("id") == event_id}
    assert before
    removed = w.service.purge(drill)
    assert removed["events"] == 1 and removed["stream_entries"] >= 1 and removed["slots"] == 2
    r = redis_store._r
    assert not any(r.exists(k) for k in keys.drill_keys(drill))
    assert r.zscore(keys.DRILLS, drill) is None and not r.exists(keys.event(event_id))
    assert not r.zscore(keys.ALL_INDEX, event_id)
    left = {sid for sid, f in redis_store.changes_reader.after("0-0") if f.get("id") == event_id}
    assert left == set()
    assert desk.slots_for(w.micro) == []
    assert r.exists(keys.event(real)) and world["events"].get(real)["id"] == real


def test_purge_refuses_to_touch_an_event_that_is_not_the_drills(world):
    w, drill, redis_store = world["w"], world["drill"], world["redis"]
    real = _real_event(world)
    redis_store._r.sadd(keys.drill_events(drill), real)  # a wrong link must not delete it
    assert w.service.purge(drill)["events"] == 0
    assert redis_store._r.exists(keys.event(real))


def _real_event(world) -> str:
    report = Report(data=parse({"category": "05002", "lon": POINT[0], "lat": POINT[1],
                                "description": "路灯不亮"}), source=Source.API)
    return world["intake"].submit(report, actor=COORDINATOR).id
