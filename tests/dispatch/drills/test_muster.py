"""The muster: responders step forward only, arrival is the position inside the fence (or a
coordinator's override with a reason), and the runner finds arrivals by itself."""

from __future__ import annotations

import pytest

from dispatch.access.roles import Actor, Role
from dispatch.drills.models import (
    ArrivalHow,
    DrillAction,
    DrillChange,
    DrillIn,
    MusterPoint,
    ResponderStatus,
)
from dispatch.drills.muster import GeofenceError, ReasonError
from dispatch.store.drills import DrillStateError, NotParticipantError, StepBackError
from tests.dispatch.drills.world import COORDINATOR, POINT, make_world

R = ResponderStatus
RUNNER = Actor(name="runner", role=Role.SYSTEM)


@pytest.fixture
def world(own_store, demo_grids):
    return make_world(own_store, demo_grids)


@pytest.fixture
def drill(world):
    spec = DrillIn(kind="muster", scope=world.street, team=("DW1", "DW2", "DW3"),
                   points=(MusterPoint(name="广场", lon=POINT[0], lat=POINT[1], radius_m=100),))
    drill_id = world.service.plan(spec, actor=COORDINATOR)["id"]
    world.service.act(drill_id, DrillAction.START, actor=COORDINATOR)
    return drill_id


def _steps(world, drill_id):
    return [f for _, f in world.store.log(drill_id) if f["kind"] == DrillChange.STEP]


def test_a_responder_steps_forward_and_may_skip_ahead(world, drill):
    world.clock.advance(30)
    world.muster.respond(drill, R.ACKNOWLEDGED, actor=world.worker("DW1"))
    world.muster.respond(drill, R.EN_ROUTE, actor=world.worker("DW2"))  # no acknowledgement
    with pytest.raises(StepBackError, match="already 'en_route'"):
        world.muster.respond(drill, R.ACKNOWLEDGED, actor=world.worker("DW2"))
    assert world.store.responders(drill) == {"DW1": "acknowledged", "DW2": "en_route",
                                              "DW3": "notified"}
    steps = _steps(world, drill)
    assert [(s["worker"], s["before"], s["after"], s["t"]) for s in steps] == [
        ("DW1", "notified", "acknowledged", "30.0"), ("DW2", "notified", "en_route", "30.0")]
    view = world.service.view(drill)["progress"]["steps"]
    assert view == {"notified": 1, "acknowledged": 1, "en_route": 1, "arrived": 0}


def test_someone_not_called_cannot_step(world, drill):
    with pytest.raises(NotParticipantError, match="'DW9' is not called"):
        world.muster.respond(drill, R.ACKNOWLEDGED, actor=world.worker("DW9"))


def test_steps_are_refused_while_paused(world, drill):
    world.service.act(drill, DrillAction.PAUSE, actor=COORDINATOR)
    with pytest.raises(DrillStateError, match="'paused', not 'running'"):
        world.muster.respond(drill, R.ACKNOWLEDGED, actor=world.worker("DW1"))


def test_arrival_inside_the_fence_is_accepted_with_its_distance(world, drill):
    world.clock.advance(240)
    world.at("DW1", east_m=60)
    world.muster.respond(drill, R.ARRIVED, actor=world.worker("DW1"))
    step = _steps(world, drill)[-1]
    assert (step["after"], step["how"], step["t"]) == ("arrived", ArrivalHow.GEOFENCE, "240.0")
    assert 55 <= float(step["dist_m"]) <= 65


@pytest.mark.parametrize(("east_m", "accuracy_m", "inside"), [
    (95, 0, True), (106, 0, False), (120, 25, True), (135, 25, False), (140, 500, False)])
def test_the_fence_allows_for_a_fix_accuracy_up_to_30_m(world, drill, east_m, accuracy_m,
                                                        inside):
    world.clock.advance(60)
    world.at("DW1", east_m=east_m, accuracy_m=accuracy_m)
    if inside:
        world.muster.respond(drill, R.ARRIVED, actor=world.worker("DW1"))
    else:
        with pytest.raises(GeofenceError, match="outside its 100 m fence"):
            world.muster.respond(drill, R.ARRIVED, actor=world.worker("DW1"))
        assert world.store.responders(drill)["DW1"] == "notified"


def test_arrival_needs_a_position_taken_after_the_start(world):
    world.at("DW1", east_m=10)  # at the point before the drill
    spec = DrillIn(kind="muster", scope=world.street, team=("DW1",),
                   points=(MusterPoint(name="广场", lon=POINT[0], lat=POINT[1], radius_m=100),))
    world.clock.advance(5)
    drill_id = world.service.plan(spec, actor=COORDINATOR)["id"]
    world.service.act(drill_id, DrillAction.START, actor=COORDINATOR)
    with pytest.raises(GeofenceError, match="before the drill started"):
        world.muster.respond(drill_id, R.ARRIVED, actor=world.worker("DW1"))
    with pytest.raises(GeofenceError, match="no position reported"):
        world.muster.respond(drill_id, R.ARRIVED, actor=world.worker("DW2"))


def test_the_runner_marks_arrivals_by_position_and_records_tracks(world, drill):
    world.clock.advance(100)
    world.at("DW1", east_m=400)
    world.at("DW2", east_m=30)
    assert world.muster.check_arrivals(drill, actor=RUNNER) == ["DW2"]
    world.clock.advance(100)
    world.at("DW1", east_m=80)
    assert world.muster.check_arrivals(drill, actor=RUNNER) == ["DW1"]
    assert world.muster.check_arrivals(drill, actor=RUNNER) == []
    log = [f for _, f in world.store.log(drill)]
    tracks = [f for f in log if f["kind"] == DrillChange.POSITIONS]
    assert len(tracks) == 2 and '"DW1"' in tracks[0]["items"] and '"DW2"' in tracks[0]["items"]
    arrivals = [(f["worker"], f["t"], f["how"]) for f in log if f.get("after") == "arrived"]
    assert arrivals == [("DW2", "100.0", "geofence"), ("DW1", "200.0", "geofence")]


def test_an_override_needs_a_reason_and_says_who_and_why(world, drill):
    with pytest.raises(ReasonError, match="reason"):
        world.muster.override(drill, "DW3", reason=" ok ", actor=COORDINATOR)
    assert world.store.responders(drill)["DW3"] == "notified"
    world.clock.advance(300)
    world.muster.override(drill, "DW3", reason="室内无定位，已电话确认到场", actor=COORDINATOR)
    step = _steps(world, drill)[-1]
    assert (step["worker"], step["after"], step["how"], step["actor"], step["role"]) == (
        "DW3", "arrived", "override", "coord", "coordinator")
    assert step["reason"] == "室内无定位，已电话确认到场"


def test_the_board_lists_who_is_missing_first_with_phones_masked(world, drill):
    world.clock.advance(50)
    world.at("DW1", east_m=20)
    world.muster.check_arrivals(drill, actor=RUNNER)
    world.muster.respond(drill, R.EN_ROUTE, actor=world.worker("DW2"))
    board = world.muster.board(drill)
    assert [r["worker"] for r in board] == ["DW3", "DW2", "DW1"]
    assert board[0]["phone"] == "100****5678" and board[0]["position"] is None
    assert board[2]["position"]["to_point_m"] == 20
