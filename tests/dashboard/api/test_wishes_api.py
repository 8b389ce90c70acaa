"""The wish wall over HTTP on a real app and Redis: the wall by state, publishing, claiming,
and each refusal in the API's shape."""

from __future__ import annotations

import pytest

from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.intake import Report, parse
from dispatch.events.models import Source
from dispatch.workers.models import Worker, WorkerRole
from tests.support import running_app

POINT = (103.8890, 30.8080)


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="wishes",
                     roles=(Role.OPERATOR, Role.LEADER)) as (client, runtime, tokens):
        cell = runtime.locator.locate(*POINT)
        runtime.workers.replace_all([
            _worker("WAPI-P1", cell.micro, party=True),
            _worker("WAPI-P2", cell.micro, party=True),
            _worker("WAPI-N1", cell.micro, party=False)], actor="t", role="admin")
        scope = Scope(Reach.GRIDS, frozenset({cell.micro, cell.general, cell.total}))
        for wid in ("WAPI-P1", "WAPI-P2", "WAPI-N1"):
            tokens[wid] = runtime.auth.create_token(name=wid, role=Role.WORKER, scope=scope)
        yield client, runtime, tokens


def _worker(wid: str, grid: str, *, party: bool) -> Worker:
    return Worker(id=wid, name=f"党员{wid}", phone="10012345678", role=WorkerRole.VOLUNTEER,
                  grid=grid, party_member=party, home_lon=POINT[0], home_lat=POINT[1])


def _as(tokens, who) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[who]}"}


def _post_wish(runtime, category: str = "14002") -> str:
    data = parse({"category": category, "lon": POINT[0], "lat": POINT[1],
                  "description": "希望帮忙修理轮椅"})
    return runtime.intake.submit(Report(data=data, source=Source.RESIDENT),
                                 actor=Actor(name="resident", role=Role.RESIDENT)).id


def _ids(body: dict, state: str) -> set[str]:
    return {v["id"] for v in body["wishes"][state]}


def test_submitted_published_claimed_over_http(env):
    client, runtime, tokens = env
    event_id = _post_wish(runtime)
    wall = client.get("/api/v1/wishes", headers=_as(tokens, Role.OPERATOR)).get_json()
    assert event_id in _ids(wall, "submitted")
    assert set(wall["counts"]) == {"submitted", "published", "claimed", "done"}
    assert wall["counts"]["submitted"] >= 1

    resp = client.post(f"/api/v1/wishes/{event_id}/publish", headers=_as(tokens, Role.OPERATOR))
    assert resp.status_code == 200 and resp.get_json()["status"] == "registered"
    mine = client.get("/api/v1/wishes", headers=_as(tokens, "WAPI-P1")).get_json()
    assert event_id in _ids(mine, "published")

    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-P1"),
                       json={"note": "周六上门"})
    assert resp.status_code == 201
    task = resp.get_json()
    assert task["claimed"] and task["worker"]["id"] == "WAPI-P1" and task["note"] == "周六上门"
    wall = client.get("/api/v1/wishes", headers=_as(tokens, Role.LEADER)).get_json()
    assert event_id in _ids(wall, "claimed")

    again = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-P2"))
    assert again.status_code == 409 and again.get_json()["field"] == "status"


def test_a_worker_who_is_not_a_party_member_cannot_claim(env):
    client, runtime, tokens = env
    event_id = _post_wish(runtime)
    client.post(f"/api/v1/wishes/{event_id}/publish", headers=_as(tokens, Role.OPERATOR))
    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-N1"))
    assert resp.status_code == 422 and resp.get_json()["field"] == "worker"


def test_only_wishes_are_published_or_claimed(env):
    client, runtime, tokens = env
    event_id = _post_wish(runtime, "06002")
    resp = client.post(f"/api/v1/wishes/{event_id}/publish", headers=_as(tokens, Role.OPERATOR))
    assert resp.status_code == 422 and resp.get_json()["field"] == "category"
    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-P1"))
    assert resp.status_code == 422 and resp.get_json()["field"] == "category"


def test_the_gate_keeps_workers_from_publishing_and_the_centre_from_claiming(env):
    client, runtime, tokens = env
    event_id = _post_wish(runtime)
    resp = client.post(f"/api/v1/wishes/{event_id}/publish", headers=_as(tokens, "WAPI-P1"))
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, Role.OPERATOR))
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/wishes").status_code == 401


def test_bad_requests_name_their_field(env):
    client, runtime, tokens = env
    resp = client.get("/api/v1/wishes?limit=0", headers=_as(tokens, Role.OPERATOR))
    assert resp.status_code == 400 and resp.get_json()["field"] == "limit"
    resp = client.post("/api/v1/wishes/00000000-000000/publish",
                       headers=_as(tokens, Role.OPERATOR))
    assert resp.status_code == 404
    event_id = _post_wish(runtime)
    client.post(f"/api/v1/wishes/{event_id}/publish", headers=_as(tokens, Role.OPERATOR))
    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-P1"),
                       json=["not", "an", "object"])
    assert resp.status_code == 400 and resp.get_json()["field"] == "body"
    resp = client.post(f"/api/v1/wishes/{event_id}/claim", headers=_as(tokens, "WAPI-P1"),
                       json={"note": "x" * 501})
    assert resp.status_code == 422 and resp.get_json()["field"] == "note"
