"""The store writes state and its change record together."""

from __future__ import annotations

from tests.support import privacy, vault


def test_grid_set_is_recorded_with_a_change_entry(store, demo_grids):
    entry = store.record_grid_set(demo_grids.summary(), actor="system")
    active = store.active_grid_set()
    assert active["counts"] == {"total": 147, "general": 638, "micro": 5965}
    assert active["synthetic"] is True
    latest = store.changes(count=1)[0]
    assert latest["id"] == entry
    assert latest["kind"] == "grids.loaded" and latest["actor"] == "system"
    assert latest["details"]["digest"] == demo_grids.digest


def test_recording_again_replaces_not_merges(store, demo_grids):
    store.record_grid_set(demo_grids.summary() | {"extra": 1}, actor="system")
    store.record_grid_set(demo_grids.summary(), actor="admin")
    assert "extra" not in store.active_grid_set()
    assert [c["actor"] for c in store.changes(count=2)] == ["admin", "system"]




def test_event_ids_carry_the_beijing_date(store, demo_grids):
    from datetime import UTC, datetime

    from dispatch.access.roles import Actor, Role
    from dispatch.events.intake import Intake, Report, parse
    from dispatch.events.models import Source
    from dispatch.events.workflow import ManualClock
    from geo.locate import Locator

    # 17:30 UTC on 26 November is 01:30 on 27 November in Beijing.
    clock = ManualClock(t=datetime(2026, 11, 26, 17, 30, tzinfo=UTC).timestamp())
    intake = Intake(store=store.events, locator=Locator(demo_grids), clock=clock,
                    vault=vault())
    report = Report(data=parse({"category": "06001", "lon": 103.9, "lat": 30.8,
                                "description": "夜间井盖缺失"}), source=Source.API)
    created = intake.submit(report, actor=Actor(name="t", role=Role.OPERATOR))
    assert created.id.startswith("20261127-")


def test_top_tier_leaves_the_deadline_index_until_the_next_move(store, demo_grids):
    from dispatch.access.roles import Actor, Role
    from dispatch.events.intake import Intake, Report, parse
    from dispatch.events.models import Source, Status
    from dispatch.events.service import EventService
    from dispatch.events.workflow import ManualClock
    from geo.locate import Locator

    clock = ManualClock(t=2_100_000_000.0)  # far from other tests' events
    intake = Intake(store=store.events, locator=Locator(demo_grids), clock=clock,
                    vault=vault())
    events = EventService(store=store.events, clock=clock, **privacy(store, clock))
    actor = Actor(name="t", role=Role.OPERATOR)
    event_id = intake.submit(Report(data=parse({"category": "05002", "lon": 103.9,
                                                 "lat": 30.8, "description": "占道"}),
                                    source=Source.WORKER), actor=actor).id
    due = store.events.get(event_id)["due_at"]
    for _ in range(6):  # well past three missed limits
        clock.advance(3600)
        events.escalate_overdue()
    view = events.get(event_id)
    assert view["escalation"]["tier"] == "street" and view["overdue"]
    assert store._r.zscore("idx:due", event_id) is None
    events.move(event_id, Status.REGISTERED, actor=actor)
    assert store._r.zscore("idx:due", event_id) is not None
    assert store.events.get(event_id)["due_at"] != due
