"""A drill's state machine and its server-side clock, on a real Redis with a manual clock."""

from __future__ import annotations

import pytest

from dispatch.drills.clock import DrillClock
from dispatch.drills.models import (
    MOVES,
    DrillAction,
    DrillChange,
    DrillIn,
    DrillMoveError,
    DrillStatus,
    MusterPoint,
    next_status,
)
from dispatch.store.drills import DrillStateError
from tests.dispatch.drills.world import COORDINATOR, POINT, make_world

A, S = DrillAction, DrillStatus


@pytest.fixture
def world(store, demo_grids):
    return make_world(store, demo_grids)


def _plan(world, **kw):
    spec = DrillIn(kind="muster", scope=world.street, team=("DW1", "DW2", "DW3"),
                   points=(MusterPoint(name="A", lon=POINT[0], lat=POINT[1], radius_m=100),),
                   **kw)
    return world.service.plan(spec, actor=COORDINATOR)["id"]


def test_planning_records_the_team_points_and_target(world):
    drill_id = _plan(world, target_minutes=12)
    view = world.service.view(drill_id)
    assert view["status"] == S.PLANNED
    assert view["progress"] == {"total": 3, "done": 0, "share": 0.0, "steps": {
        "notified": 3, "acknowledged": 0, "en_route": 0, "arrived": 0}}
    assert view["clock"]["target_s"] == 720 and view["clock"]["elapsed_s"] == 0
    first = world.store.log(drill_id)[0][1]
    assert first["kind"] == DrillChange.PLANNED
    assert '"participants"' in first["details"] and '"DW2"' in first["details"]


@pytest.mark.parametrize(("status", "action"), [
    (s, a) for s in DrillStatus for a in DrillAction if (s, a) not in MOVES])
def test_every_move_not_in_the_table_is_refused_naming_the_status(status, action):
    with pytest.raises(DrillMoveError, match=f"is '{status.value}'"):
        next_status("D1", status, action)


def test_the_whole_life_start_pause_resume_finish(world):
    drill_id = _plan(world)
    for action, status in ((A.START, S.RUNNING), (A.PAUSE, S.PAUSED), (A.RESUME, S.RUNNING),
                           (A.FINISH, S.FINISHED)):
        world.clock.advance(10)
        assert world.service.act(drill_id, action, actor=COORDINATOR)["status"] == status
    with pytest.raises(DrillMoveError):
        world.service.act(drill_id, A.RESUME, actor=COORDINATOR)
    moves = [f for _, f in world.store.log(drill_id) if f["kind"] == DrillChange.MOVED]
    assert [(m["action"], m["before"], m["after"]) for m in moves] == [
        ("start", "planned", "running"), ("pause", "running", "paused"),
        ("resume", "paused", "running"), ("finish", "running", "finished")]
    assert all(m["actor"] == "coord" and m["role"] == "coordinator" for m in moves)


def test_the_clock_stops_while_paused_and_at_the_finish(world):
    drill_id = _plan(world)
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.clock.advance(100)
    assert world.service.view(drill_id)["clock"]["elapsed_s"] == 100
    world.service.act(drill_id, A.PAUSE, actor=COORDINATOR)
    world.clock.advance(500)  # paused: the drill's clock holds
    paused = world.service.view(drill_id)["clock"]
    assert paused["elapsed_s"] == 100 and paused["status"] == "paused"
    world.service.act(drill_id, A.RESUME, actor=COORDINATOR)
    world.clock.advance(50)
    assert world.service.view(drill_id)["clock"]["elapsed_s"] == 150
    assert world.store.drill_time(drill_id, now=world.clock.now()) == 150
    world.service.act(drill_id, A.FINISH, actor=COORDINATOR)
    world.clock.advance(1000)
    assert world.service.view(drill_id)["clock"]["elapsed_s"] == 150


def test_a_pause_at_the_finish_is_not_counted_either(world):
    drill_id = _plan(world)
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.clock.advance(60)
    world.service.act(drill_id, A.PAUSE, actor=COORDINATOR)
    world.clock.advance(600)
    world.service.act(drill_id, A.FINISH, actor=COORDINATOR)
    world.clock.advance(60)
    assert world.service.view(drill_id)["clock"]["elapsed_s"] == 60
    last = world.store.log(drill_id)[-1][1]
    assert (last["after"], last["t"]) == ("finished", "60.0")


def test_speed_runs_the_drill_clock_faster(world):
    drill_id = _plan(world, speed=60)
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.clock.advance(15)
    assert world.service.view(drill_id)["clock"]["elapsed_s"] == 900


def test_every_screen_derives_the_same_countdown_from_the_server_fields(world):
    drill_id = _plan(world)
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.clock.advance(42.5)
    sent = world.service.view(drill_id)["clock"]
    header = world.store.header(drill_id)
    assert DrillClock.of(header).remaining(world.clock.now()) == 900 - 42.5
    # a screen whose own clock is 3 s fast counts from the server's time, not its own
    screen_now = sent["server_now"] + 3
    offset = sent["server_now"] - screen_now
    elapsed = (screen_now + offset - sent["started_at"] - sent["paused_s"]) * sent["speed"]
    assert elapsed == pytest.approx(sent["elapsed_s"])


def test_two_coordinators_pausing_at_once_make_one_pause(world):
    drill_id = _plan(world)
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.store.move(drill_id, expected="running", target="paused", action="pause",
                     now=world.clock.now(), actor="a", role="coordinator")
    with pytest.raises(DrillStateError, match="'paused', not 'running'"):
        world.store.move(drill_id, expected="running", target="paused", action="pause",
                         now=world.clock.now(), actor="b", role="coordinator")
    assert sum(f.get("action") == "pause" for _, f in world.store.log(drill_id)) == 1


def test_live_drills_are_those_running_or_paused(world):
    drill_id = _plan(world)
    assert drill_id not in world.store.live_ids()
    world.service.act(drill_id, A.START, actor=COORDINATOR)
    world.service.act(drill_id, A.PAUSE, actor=COORDINATOR)
    assert drill_id in world.store.live_ids()
    world.service.act(drill_id, A.ABORT, actor=COORDINATOR)
    assert drill_id not in world.store.live_ids()
