"""The dispatch API: recommendations, assigning, a worker's steps, and fifty operators
racing for one event over real HTTP."""

from __future__ import annotations

import threading

import pytest
import requests

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from dispatch.access.scope import Reach, Scope
from dispatch.store import keys
from dispatch.workers.models import LeaderTier, Worker, WorkerRole
from geo.locate import Locator

POINT = (103.8890, 30.8080)


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    cell = Locator(demo_grids).locate(*POINT)
    roster = [Worker(id=wid, name=f"网格员{wid}", phone="10012345678", role=role,
                     grid=cell.micro, leads=leads, leader_tier=tier, skills=("05",),
                     party_member=True, home_lon=POINT[0], home_lat=POINT[1])
              for wid, role, leads, tier in (
                  ("A1", WorkerRole.RESIDENT_ACTIVIST, cell.micro, LeaderTier.MICRO),
                  ("A2", WorkerRole.GRID_WORKER, "", None),
                  ("A3", WorkerRole.VOLUNTEER, "", None))]
    runtime.workers.replace_all(roster, actor="t", role="admin")
    runtime.store._r.delete(keys.TASKS_OPEN_COUNTS, *(keys.worker_open_tasks(w.id) for w in roster))
    grids = Scope(Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total]))
    tokens = {role: runtime.auth.create_token(name=f"tasks-{role.value}", role=role)
              for role in (Role.OPERATOR, Role.LEADER, Role.INTEGRATION)}
    for wid in ("A1", "A2"):
        tokens[wid] = runtime.auth.create_token(name=wid, role=Role.WORKER, scope=grids)
    app = create_app(runtime=runtime, live_feed=False)
    yield app.server.test_client(), runtime, tokens
    runtime.close()


def _event(client, tokens) -> str:
    resp = client.post("/api/v1/events", headers=_auth(tokens[Role.OPERATOR]), json={
        "category": "05002", "lon": POINT[0], "lat": POINT[1], "description": "路灯不亮"})
    assert resp.status_code == 201, resp.text
    return resp.get_json()["id"]


def test_recommendations_name_their_reasons_and_leaders_cannot_ask(env):
    client, _, tokens = env
    event_id = _event(client, tokens)
    resp = client.get(f"/api/v1/events/{event_id}/recommendations?limit=3",
                      headers=_auth(tokens[Role.OPERATOR]))
    assert resp.status_code == 200, resp.text
    found = resp.get_json()["candidates"]
    assert found[0]["worker"]["id"] == "A1"
    assert "micro-grid leader of" in found[0]["reason"]
    assert found[0]["worker"]["phone"] == "100****5678"
    resp = client.get(f"/api/v1/events/{event_id}/recommendations",
                      headers=_auth(tokens[Role.LEADER]))
    assert resp.status_code == 403
    bad = client.get(f"/api/v1/events/{event_id}/recommendations?limit=0",
                     headers=_auth(tokens[Role.OPERATOR]))
    assert bad.status_code == 400 and bad.get_json()["field"] == "limit"


def test_a_leader_is_refused_and_nothing_is_stored(env):
    client, runtime, tokens = env
    event_id = _event(client, tokens)
    before = runtime.store.events.get(event_id)
    resp = client.post(f"/api/v1/events/{event_id}/tasks", headers=_auth(tokens[Role.LEADER]),
                       json={"worker": "A1"})
    assert resp.status_code == 403
    assert runtime.task_store.open_task_of(event_id) is None
    assert runtime.store.events.get(event_id) == before


@pytest.mark.parametrize(("body", "status", "field"), [
    ({}, 422, "worker"), ({"worker": 7}, 422, "worker"), ({"worker": "NOBODY"}, 422, "worker"),
    ({"worker": "A1", "note": "x" * 501}, 422, "note"), ("[]", 400, "body"),
])
def test_bad_assignments_name_the_field(env, body, status, field):
    client, runtime, tokens = env
    event_id = _event(client, tokens)
    kwargs = {"data": body, "content_type": "application/json"} if isinstance(body, str) \
        else {"json": body}
    resp = client.post(f"/api/v1/events/{event_id}/tasks",
                       headers=_auth(tokens[Role.OPERATOR]), **kwargs)
    assert resp.status_code == status and resp.get_json()["field"] == field, resp.text
    assert runtime.task_store.open_task_of(event_id) is None


def test_a_worker_takes_the_steps_of_their_own_task_only(env):
    client, _, tokens = env
    event_id = _event(client, tokens)
    task = client.post(f"/api/v1/events/{event_id}/tasks", headers=_auth(tokens[Role.OPERATOR]),
                       json={"worker": "A1", "note": "请尽快"}).get_json()
    url = f"/api/v1/tasks/{task['id']}/steps"
    other = client.post(url, headers=_auth(tokens["A2"]), json={"status": "accepted"})
    assert other.status_code == 403
    for status in ("accepted", "en_route", "on_site"):
        resp = client.post(url, headers=_auth(tokens["A1"]), json={"status": status})
        assert resp.status_code == 200 and resp.get_json()["status"] == status, resp.text
    again = client.post(url, headers=_auth(tokens["A1"]), json={"status": "on_site"})
    assert again.status_code == 409 and again.get_json()["field"] == "status"
    no_note = client.post(url, headers=_auth(tokens["A1"]), json={"status": "resolved"})
    assert no_note.status_code == 422 and no_note.get_json()["field"] == "note"
    done = client.post(url, headers=_auth(tokens["A1"]),
                       json={"status": "resolved", "note": "已修好"})
    assert done.status_code == 200
    centre = _auth(tokens[Role.OPERATOR])
    assert client.post(url, headers=centre, json={"status": "verified"}).status_code == 200
    bad = client.post(url, headers=centre, json={"status": "called_back", "satisfaction": "ok"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "satisfaction"
    closed = client.post(url, headers=centre,
                         json={"status": "called_back", "satisfaction": "satisfied"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    mine = client.get("/api/v1/tasks?worker=me", headers=_auth(tokens["A1"])).get_json()
    assert task["id"] in [t["id"] for t in mine["tasks"]]
    event = client.get(f"/api/v1/events/{event_id}", headers=centre).get_json()
    assert event["status"] == "closed" and event["task"] == ""


def test_an_event_with_an_open_task_moves_only_with_it(env):
    client, _, tokens = env
    event_id = _event(client, tokens)
    client.post(f"/api/v1/events/{event_id}/tasks", headers=_auth(tokens[Role.OPERATOR]),
                json={"worker": "A2"})
    resp = client.post(f"/api/v1/events/{event_id}/transitions",
                       headers=_auth(tokens["A2"]), json={"status": "signed"})
    assert resp.status_code == 409 and resp.get_json()["field"] == "task"


def test_positions_are_reported_by_the_phone_for_its_own_worker(env):
    client, runtime, tokens = env
    resp = client.post("/api/v1/workers/me/position", headers=_auth(tokens["A1"]),
                       json={"lon": POINT[0], "lat": POINT[1], "accuracy_m": 12})
    assert resp.status_code == 202 and resp.get_json()["worker"] == "A1"
    assert runtime.positions.of(["A1"])["A1"].accuracy_m == 12
    other = client.post("/api/v1/workers/me/position", headers=_auth(tokens["A1"]),
                        json={"lon": POINT[0], "lat": POINT[1], "worker": "A2"})
    assert other.status_code == 422 and other.get_json()["field"] == "worker"
    bad = client.post("/api/v1/workers/me/position", headers=_auth(tokens["A1"]),
                      json={"lon": POINT[0], "lat": 95})
    assert bad.status_code == 422 and bad.get_json()["field"] == "lat"
    gateway = client.post("/api/v1/workers/me/position", headers=_auth(tokens[Role.INTEGRATION]),
                          json={"lon": POINT[0], "lat": POINT[1], "worker": "A3"})
    assert gateway.status_code == 202
    leader = client.post("/api/v1/workers/me/position", headers=_auth(tokens[Role.LEADER]),
                         json={"lon": POINT[0], "lat": POINT[1]})
    assert leader.status_code == 403


def test_fifty_operators_assigning_one_event_over_http_make_one_task(env, live_server):
    client, runtime, tokens = env
    event_id = _event(client, tokens)
    operators = [runtime.auth.create_token(name=f"race-{i}", role=Role.OPERATOR)
                 for i in range(50)]
    barrier = threading.Barrier(50)
    answers: list[tuple[int, dict]] = []

    def assign(i: int) -> None:
        with requests.Session() as http:
            http.headers.update(_auth(operators[i]))
            barrier.wait()
            resp = http.post(f"{live_server}/api/v1/events/{event_id}/tasks",
                             json={"worker": ("A1", "A2", "A3")[i % 3]}, timeout=60)
            answers.append((resp.status_code, resp.json()))

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [409] * 49, codes
    winner = next(body for code, body in answers if code == 201)
    for code, body in answers:
        if code == 409:  # the others see who did (or that the event moved on meanwhile)
            assert body.get("assignee", winner["worker"]["id"]) == winner["worker"]["id"]
    assert runtime.task_store.open_task_of(event_id) == winner["id"]


@pytest.mark.parametrize("satisfaction", [["satisfied"], {"a": 1}, 3])
def test_a_satisfaction_that_is_not_text_is_named(env, satisfaction):
    client, _, tokens = env
    resp = client.post("/api/v1/tasks/nope.1/steps", headers=_auth(tokens[Role.OPERATOR]),
                       json={"status": "called_back", "satisfaction": satisfaction})
    assert resp.status_code == 422 and resp.get_json()["field"] == "satisfaction"
