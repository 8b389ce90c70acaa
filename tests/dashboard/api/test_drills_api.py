"""The drills API: coordinators plan and run, workers respond and sweep, everyone else is
refused by field; figures and replay are recomputed from the drill's stream."""

from __future__ import annotations

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from dispatch.access.scope import Reach, Scope
from dispatch.drills.figures import figures
from dispatch.drills.replay import state_at
from dispatch.households.models import Household, household_id
from dispatch.workers.models import Worker, WorkerRole
from geo.locate import Locator

POINT = (103.8890, 30.8080)


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    cell = Locator(demo_grids).locate(*POINT)
    roster = [Worker(id=wid, name=f"队员{wid}", phone="10012345678",
                     role=WorkerRole.GRID_WORKER, grid=cell.micro, home_lon=POINT[0],
                     home_lat=POINT[1]) for wid in ("D1", "D2")]
    runtime.workers.replace_all(roster, actor="t", role="admin")
    runtime.households.load([Household(id=household_id(cell.micro, 1, n), address=f"1栋{n}号",
                                       head=f"住户{n}") for n in range(1, 4)])
    tokens = {role: runtime.auth.create_token(name=f"drills-{role.value}", role=role)
              for role in (Role.COORDINATOR, Role.LEADER, Role.OPERATOR, Role.INTEGRATION)}
    grids = Scope(Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total]))
    for wid in ("D1", "D2"):
        tokens[wid] = runtime.auth.create_token(name=wid, role=Role.WORKER, scope=grids)
    app = create_app(runtime=runtime, live_feed=False)
    yield {"client": app.server.test_client(), "runtime": runtime, "tokens": tokens,
           "micro": cell.micro, "street": cell.micro[:9]}
    runtime.close()


def _muster(env, **extra) -> str:
    t = env["tokens"]
    body = {"kind": "muster", "scope": env["street"], "team": ["D1", "D2"],
            "points": [{"name": "广场", "lon": POINT[0], "lat": POINT[1], "radius_m": 100}],
            **extra}
    resp = env["client"].post("/api/v1/drills", json=body, headers=_auth(t[Role.COORDINATOR]))
    assert resp.status_code == 201, resp.text
    return resp.get_json()["id"]


def _act(env, drill_id: str, action: str, role=Role.COORDINATOR):
    return env["client"].post(f"/api/v1/drills/{drill_id}/actions", json={"action": action},
                              headers=_auth(env["tokens"][role]))


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "parade", "scope": "510117"}, "kind"),
    ({"kind": "muster", "scope": "5101"}, "scope"),
    ({"kind": "muster", "scope": "510117999"}, "scope"),
    ({"kind": "muster", "scope": "510117", "scenario": "tsunami"}, "scenario"),
    ({"kind": "muster", "scope": "510117", "team": ["nobody"]}, "team"),
    ({"kind": "muster", "scope": "510117", "speed": 500}, "speed"),
    ({"kind": "muster", "scope": "510117", "colour": "red"}, "colour"),
])
def test_a_bad_plan_is_refused_naming_its_field(env, body, field):
    resp = env["client"].post("/api/v1/drills", json=body,
                              headers=_auth(env["tokens"][Role.COORDINATOR]))
    assert resp.status_code == 422, resp.text
    assert resp.get_json()["field"] == field


def test_only_coordinators_plan_and_run_drills(env):
    t = env["tokens"]
    for role in (Role.LEADER, Role.OPERATOR):
        resp = env["client"].post("/api/v1/drills", json={"kind": "muster", "scope": "510117"},
                                  headers=_auth(t[role]))
        assert resp.status_code == 403 and resp.get_json()["field"] == "role"
    drill_id = _muster(env)
    assert _act(env, drill_id, "start", role=Role.LEADER).status_code == 403
    assert env["client"].get(f"/api/v1/drills/{drill_id}",
                             headers=_auth(t[Role.LEADER])).status_code == 200
    assert env["client"].get(f"/api/v1/drills/{drill_id}").status_code == 401


def test_moves_are_checked_against_the_drills_state(env):
    drill_id = _muster(env)
    resp = _act(env, drill_id, "pause")
    assert resp.status_code == 409 and resp.get_json()["field"] == "action"
    assert resp.get_json()["current"] == "planned"
    assert _act(env, drill_id, "start").get_json()["status"] == "running"
    bad = _act(env, drill_id, "rewind")
    assert bad.status_code == 422 and bad.get_json()["field"] == "action"
    assert _act(env, "DR-none", "start").status_code == 404


def test_a_responder_steps_and_arrival_is_checked_against_the_fence(env):
    c, t = env["client"], env["tokens"]
    drill_id = _muster(env)
    _act(env, drill_id, "start")
    mine = c.get("/api/v1/drills/mine", headers=_auth(t["D1"])).get_json()["drills"]
    assert [(d["id"], d["me"]["status"]) for d in mine if d["id"] == drill_id] == [
        (drill_id, "notified")]
    ok = c.post(f"/api/v1/drills/{drill_id}/respond", json={"step": "acknowledged"},
                headers=_auth(t["D1"]))
    assert ok.status_code == 200 and ok.get_json()["status"] == "acknowledged"
    far = {"lon": POINT[0] + 0.01, "lat": POINT[1]}
    c.post("/api/v1/workers/me/position", json=far, headers=_auth(t["D1"]))
    resp = c.post(f"/api/v1/drills/{drill_id}/respond", json={"step": "arrived"},
                  headers=_auth(t["D1"]))
    assert resp.status_code == 422 and resp.get_json()["field"] == "position"
    assert resp.get_json()["distance_m"] > 900
    back = c.post(f"/api/v1/drills/{drill_id}/respond", json={"step": "notified"},
                  headers=_auth(t["D1"]))
    assert back.status_code == 422 and back.get_json()["field"] == "step"
    again = c.post(f"/api/v1/drills/{drill_id}/respond", json={"step": "acknowledged"},
                   headers=_auth(t["D1"]))
    assert again.status_code == 409 and again.get_json()["field"] == "step"


def test_override_needs_a_reason_and_a_call_reveal_is_audited(env):
    c, t, runtime = env["client"], env["tokens"], env["runtime"]
    drill_id = _muster(env)
    _act(env, drill_id, "start")
    url = f"/api/v1/drills/{drill_id}/responders/D2"
    short = c.post(url + "/override", json={"reason": "ok"}, headers=_auth(t[Role.COORDINATOR]))
    assert short.status_code == 422 and short.get_json()["field"] == "reason"
    done = c.post(url + "/override", json={"reason": "室内无信号，电话确认已到"},
                  headers=_auth(t[Role.COORDINATOR]))
    assert done.status_code == 200
    board = c.get(f"/api/v1/drills/{drill_id}/responders",
                  headers=_auth(t[Role.LEADER])).get_json()["responders"]
    assert [r["phone"] for r in board] == ["100****5678"] * 2
    assert c.post(url + "/reveal", json={"reason": "点名"},
                  headers=_auth(t[Role.LEADER])).status_code == 403
    shown = c.post(url + "/reveal", json={"reason": "点名"}, headers=_auth(t[Role.COORDINATOR]))
    assert shown.status_code == 200 and shown.get_json()["phone"] == "10012345678"
    trail = runtime.audit.export(since=0)
    assert any(r.get("target") == f"{drill_id}/D2" and r.get("reason") == "drill_call"
               for r in trail)


def test_figures_and_replay_are_recomputed_from_the_stream(env):
    c, t, runtime = env["client"], env["tokens"], env["runtime"]
    drill_id = _muster(env)
    _act(env, drill_id, "start")
    c.post(f"/api/v1/drills/{drill_id}/responders/D1/override", json={"reason": "手动确认到场"},
           headers=_auth(t[Role.COORDINATOR]))
    _act(env, drill_id, "finish")
    log = runtime.drill_store.log(drill_id)
    got = c.get(f"/api/v1/drills/{drill_id}/figures", headers=_auth(t[Role.LEADER])).get_json()
    expected = figures(log)
    assert got["reached"] == expected["reached"] == 1 and got["total"] == 2
    assert got["missing_count"] == 1 and got["passed"] is False
    state = c.get(f"/api/v1/drills/{drill_id}/replay?t=0", headers=_auth(t[Role.LEADER]))
    assert state.status_code == 200 and state.get_json() == state_at(log, 0)
    for bad in ("x", "-1", "1e9"):
        resp = c.get(f"/api/v1/drills/{drill_id}/replay?t={bad}", headers=_auth(t[Role.LEADER]))
        assert resp.status_code == 422 and resp.get_json()["field"] == "t"
    page = c.get(f"/api/v1/drills/{drill_id}/report", headers=_auth(t[Role.LEADER]))
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert b"src=\"http" not in page.data and b"href=\"http" not in page.data


def test_sweep_reports_are_held_to_the_workers_grids_and_checked(env):
    c, t = env["client"], env["tokens"]
    resp = c.post("/api/v1/drills", json={"kind": "sweep", "scope": env["street"]},
                  headers=_auth(t[Role.COORDINATOR]))
    assert resp.status_code == 201, resp.text
    drill_id = resp.get_json()["id"]
    _act(env, drill_id, "start")
    url = f"/api/v1/drills/{drill_id}/sweep"
    mine = household_id(env["micro"], 1, 1)
    ok = c.post(url, json={"reports": [{"household": mine, "status": "safe"}]},
                headers=_auth(t["D1"]))
    assert ok.status_code == 201 and ok.get_json()["new"] == 1
    other = "51011700900000001-01-001"
    resp = c.post(url, json={"reports": [{"household": other, "status": "safe"}]},
                  headers=_auth(t["D1"]))
    assert resp.status_code == 403
    resp = c.post(url, json={"reports": [{"household": mine, "status": "fine"}]},
                  headers=_auth(t["D1"]))
    assert resp.status_code == 422 and resp.get_json()["field"] == "reports.0.status"
    resp = c.post(url, json={"reports": [{"building": f"{env['micro']}-01", "status": "safe"}]},
                  headers=_auth(t[Role.INTEGRATION]))
    assert resp.status_code == 422 and resp.get_json()["field"] == "worker"
    resp = c.post(url, json={"worker": "D2", "reports": [
        {"building": f"{env['micro']}-01", "status": "safe"}]}, headers=_auth(t[Role.INTEGRATION]))
    assert resp.status_code == 201 and resp.get_json()["swept"] == 3
    listed = c.get(f"/api/v1/drills/{drill_id}/households?grid={env['micro']}",
                   headers=_auth(t["D1"])).get_json()
    assert listed["reached"] == 3 and listed["buildings"][0]["households"][0]["head"] != "住户1"


def test_the_events_list_filters_drill_events_by_a_named_parameter(env):
    c, t = env["client"], env["tokens"]
    resp = c.get("/api/v1/events?exercise=maybe", headers=_auth(t[Role.OPERATOR]))
    assert resp.status_code == 400 and resp.get_json()["field"] == "exercise"
    assert c.get("/api/v1/events?exercise=false",
                 headers=_auth(t[Role.OPERATOR])).status_code == 200


def test_published_slots_show_on_the_buildings_qr_page(env):
    c, t = env["client"], env["tokens"]
    drill_id = c.post("/api/v1/drills", json={"kind": "sweep", "scope": env["street"]},
                      headers=_auth(t[Role.COORDINATOR])).get_json()["id"]
    _act(env, drill_id, "start")
    bad = c.post(f"/api/v1/drills/{drill_id}/slots", json={"start": "tomorrow"},
                 headers=_auth(t[Role.COORDINATOR]))
    assert bad.status_code == 422 and bad.get_json()["field"] == "start"
    done = c.post(f"/api/v1/drills/{drill_id}/slots",
                  json={"start": "2033-05-18T09:00", "minutes": 30},
                  headers=_auth(t[Role.COORDINATOR]))
    assert done.status_code == 201 and done.get_json()["label"] == "核酸检测"
    page = c.get(f"/report?grid={env['micro']}&b=1栋").get_data(as_text=True)
    assert "各楼时段安排" in page and "r-slot-mine" in page and "演练 DRILL" in page
    assert "2033-05-18" in page and "09:00–09:30" in page
