"""An account held to one street sees and moves that street's events only, over the REST
API, the event panel's callback and the live feed; an account held to grids gets no feed."""

from __future__ import annotations

import time

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.workflow import ManualClock
from geo.model import Tier

START = float(int(time.time()) + 400 * 86400)


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    runtime.clock = ManualClock(t=START)
    app = create_app(runtime=runtime)
    micro = demo_grids.tier(Tier.MICRO).sort_values("code")
    micro = micro.assign(street=micro["code"].str[:9]).drop_duplicates("street").head(2)
    points = [{"lon": p.x, "lat": p.y} for p in micro.geometry.representative_point()]
    streets = list(micro["street"])
    operator = runtime.auth.create_token(name="scope-operator", role=Role.OPERATOR)
    ids = []
    for point in points:
        resp = app.server.test_client().post(
            "/api/v1/events", headers={"Authorization": f"Bearer {operator}"},
            json={"category": "01001", "description": "scope test", **point})
        assert resp.status_code == 201, resp.text
        ids.append(resp.get_json()["id"])
    tokens = {
        "street": runtime.auth.create_token(
            name="scope-street-leader", role=Role.LEADER,
            scope=Scope(Reach.STREET, frozenset({streets[0]}))),
        **{name: runtime.auth.create_token(
            name=f"scope-{name}", role=Role.WORKER,
            scope=Scope(Reach.GRIDS, frozenset({str(micro["code"].iloc[0])})))
           for name in ("grid-worker", "other-worker", "roaming-worker")},
        "grids": runtime.auth.create_token(
            name="scope-grid-leader", role=Role.LEADER,
            scope=Scope(Reach.GRIDS, frozenset({str(micro["code"].iloc[0])}))),
        "district": runtime.auth.create_token(name="scope-district-leader", role=Role.LEADER),
    }
    yield app, runtime, tokens, ids, streets
    runtime.close()


def _get(app, token: str, url: str):
    return app.server.test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def test_a_street_account_lists_and_reads_its_street_only(env):
    app, _, tokens, (mine, theirs), _ = env
    window = f"since={START - 60}&until={START + 60}"
    listed = {e["id"] for e in _get(app, tokens["street"], f"/api/v1/events?{window}")
              .get_json()["events"]}
    assert mine in listed and theirs not in listed
    assert _get(app, tokens["street"], f"/api/v1/events/{mine}").status_code == 200
    refused = _get(app, tokens["street"], f"/api/v1/events/{theirs}")
    assert refused.status_code == 403 and "outside your scope" in refused.get_json()["message"]
    district = {e["id"] for e in _get(app, tokens["district"], f"/api/v1/events?{window}")
                .get_json()["events"]}
    assert {mine, theirs} <= district


def test_a_grid_account_lists_its_grids_only(env):
    app, _, tokens, (mine, theirs), _ = env
    window = f"since={START - 60}&until={START + 60}"
    listed = {e["id"] for e in _get(app, tokens["grids"], f"/api/v1/events?{window}")
              .get_json()["events"]}
    assert mine in listed and theirs not in listed


def test_a_worker_moves_its_grids_events_and_its_own_assignments_only(env):
    app, runtime, tokens, (mine, theirs), _ = env
    client = app.server.test_client()
    operator = runtime.auth.create_token(name="scope-operator-2", role=Role.OPERATOR)
    for event_id, assignee in ((mine, "scope-grid-worker"), (theirs, "")):
        resp = client.post(f"/api/v1/events/{event_id}/transitions", json={
            "status": "dispatched", "assignee": assignee},
            headers={"Authorization": f"Bearer {operator}"})
        assert resp.status_code == 200, resp.text

    def sign(who: str, event_id: str):
        return client.post(f"/api/v1/events/{event_id}/transitions", json={"status": "signed"},
                           headers={"Authorization": f"Bearer {tokens[who]}"})

    refused = sign("grid-worker", theirs)  # another street, not theirs
    assert refused.status_code == 403 and "outside your scope" in refused.get_json()["message"]
    taken = sign("other-worker", mine)  # in the same grid, but dispatched to someone else
    assert taken.status_code == 403 and "dispatched to 'scope-grid-worker'" in \
        taken.get_json()["message"]
    assert runtime.events.get(theirs)["status"] == runtime.events.get(mine)["status"] == \
        "dispatched"
    done = sign("grid-worker", mine)
    assert done.status_code == 200 and done.get_json()["status"] == "signed"


def test_an_event_assigned_to_a_worker_reaches_them_outside_their_grids(env):
    app, runtime, tokens, (_, theirs), _ = env
    window = f"since={START - 60}&until={START + 60}"
    assert _get(app, tokens["roaming-worker"], f"/api/v1/events/{theirs}").status_code == 403
    runtime.store.events._r.hset(f"ev:{theirs}", "assignee", "scope-roaming-worker")
    assert _get(app, tokens["roaming-worker"], f"/api/v1/events/{theirs}").status_code == 200
    listed = {e["id"] for e in _get(app, tokens["roaming-worker"], f"/api/v1/events?{window}")
              .get_json()["events"]}
    assert theirs in listed
    assert theirs not in {e["id"] for e in _get(
        app, tokens["grid-worker"], f"/api/v1/events?{window}").get_json()["events"]}


def test_the_live_feed_is_held_to_the_street(env):
    app, _, tokens, _, streets = env
    socketio = app.server.extensions["socketio"]
    own = socketio.test_client(app.server, namespace="/live",
                               auth={"token": tokens["street"]})
    assert own.is_connected("/live")
    own.disconnect(namespace="/live")
    other = socketio.test_client(app.server, namespace="/live",
                                 auth={"token": tokens["street"], "street": streets[1]})
    assert not other.is_connected("/live")
    grids = socketio.test_client(app.server, namespace="/live", auth={"token": tokens["grids"]})
    assert not grids.is_connected("/live")
    caught_up = _get(app, tokens["street"], f"/api/v1/live/changes?street={streets[1]}")
    assert caught_up.status_code == 403


def test_a_street_snapshot_holds_only_its_street(env):
    app, _, tokens, (_, theirs), _ = env
    snap = _get(app, tokens["street"], "/api/v1/live/changes").get_json()
    held = {e["id"] for e in snap["events"]}
    assert theirs not in held


def test_a_worker_cannot_dispatch_an_event_to_anyone(env):
    app, runtime, tokens, (mine, _), _ = env
    before = runtime.events.get(mine)
    resp = app.server.test_client().post(
        f"/api/v1/events/{mine}/transitions",
        json={"status": "in_progress", "assignee": "scope-other-worker"},
        headers={"Authorization": f"Bearer {tokens['grid-worker']}"})
    assert resp.status_code == 403 and resp.get_json()["field"] == "assignee"
    assert runtime.events.get(mine)["assignee"] == before["assignee"]
