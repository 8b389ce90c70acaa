"""Inputs that used to answer 5xx (or 200 with the wrong thing) answer a 4xx naming the field,
and store nothing."""

from __future__ import annotations

import json

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from geo.model import Tier

NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    app = create_app(runtime=runtime)
    tokens = {role: runtime.auth.create_token(name=f"bad-{role.value}", role=role)
              for role in (Role.OPERATOR, Role.DEVICE, Role.INTEGRATION)}
    micro = demo_grids.tier(Tier.MICRO).sort_values("code").iloc[3]
    point = micro.geometry.representative_point()
    yield app, runtime, tokens, {"lon": point.x, "lat": point.y}
    runtime.close()


def _auth(tokens, role=Role.OPERATOR) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[role]}"}


def _refused(resp, status: int, field: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert body["field"] == field, body
    return body


@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/events/batch"])
def test_json_nested_past_the_parser_is_400_naming_the_body(env, url):
    app, _, tokens, _ = env
    resp = app.server.test_client().post(url, data=NESTED, content_type="application/json",
                                         headers=_auth(tokens))
    assert "nested too deeply" in _refused(resp, 400, "body")["message"]


def test_a_nested_alarm_body_is_400(env):
    app, _, tokens, _ = env
    resp = app.server.test_client().post("/api/v1/iot/alarms", data=NESTED,
                                         content_type="application/json",
                                         headers=_auth(tokens, Role.DEVICE))
    _refused(resp, 400, "body")


def test_a_nested_hotline_line_is_named_by_its_line(env):
    app, _, tokens, _ = env
    data = ('{"a": 1}\n' + NESTED).encode()
    resp = app.server.test_client().post("/api/v1/hotline/import", data=data,
                                         content_type="application/x-ndjson",
                                         headers=_auth(tokens, Role.INTEGRATION))
    body = resp.get_json()
    assert resp.status_code == 422
    assert {"line": 2, "field": "json", "message": "is nested too deeply"} in body["problems"]


@pytest.mark.parametrize("query, field", [
    ("since=1e306", "since"), ("until=-1e306", "until"),
    ("since=0001-01-01T00:00:00%2B14:00", "since"), ("until=9999-12-31T23:59:59Z", "until"),
])
def test_times_outside_any_event_are_400(env, query, field):
    app, _, tokens, _ = env
    resp = app.server.test_client().get(f"/api/v1/events?{query}", headers=_auth(tokens))
    assert "outside" in _refused(resp, 400, field)["message"]


@pytest.mark.parametrize("since", ["99999999999999999999-0", "1-99999999999999999999", "abc"])
def test_live_catch_up_refuses_ids_redis_could_not_hold(env, since):
    app, _, tokens, _ = env
    resp = app.server.test_client().get(f"/api/v1/live/changes?since={since}",
                                        headers=_auth(tokens))
    _refused(resp, 400, "since")


@pytest.mark.parametrize("since", ["abc", "99999999999999999999-0", {"x": 1}])
def test_live_connect_with_a_bad_since_is_refused_not_crashed(env, since):
    app, _, tokens, _ = env
    socketio = app.server.extensions["socketio"]
    client = socketio.test_client(app.server, namespace="/live",
                                  auth={"token": tokens[Role.OPERATOR], "since": since})
    assert not client.is_connected("/live")
    good = socketio.test_client(app.server, namespace="/live",
                                auth={"token": tokens[Role.OPERATOR]})
    assert good.is_connected("/live")
    good.disconnect(namespace="/live")


@pytest.mark.parametrize("at", ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00+14:00"])
def test_alarm_times_from_a_reset_clock_are_422_naming_at(env, at):
    app, _, tokens, point = env
    client = app.server.test_client()
    device = {"device_id": "bad-input-smoke-1", "type": "smoke", **point}
    assert client.post("/api/v1/iot/devices", json=device,
                       headers=_auth(tokens)).status_code in (200, 201)
    resp = client.post("/api/v1/iot/alarms", json={"device_id": "bad-input-smoke-1",
                                                   "alarm": "smoke", "at": at},
                       headers=_auth(tokens, Role.DEVICE))
    assert "outside" in _refused(resp, 422, "at")["message"]


def test_an_idempotency_key_over_the_limit_is_refused_not_cut(env):
    app, runtime, tokens, point = env
    client = app.server.test_client()
    report = {"category": "01001", "description": "idempotency limit", **point}
    stem = "k" * 128
    first = client.post("/api/v1/events", json=report,
                        headers={**_auth(tokens), "Idempotency-Key": stem})
    assert first.status_code == 201
    before = len(runtime.store.events.ids("idx:all", limit=10_000))
    longer = client.post("/api/v1/events", json=report | {"description": "another report"},
                         headers={**_auth(tokens), "Idempotency-Key": stem + "-2"})
    assert "at most 128" in _refused(longer, 400, "Idempotency-Key")["message"]
    assert len(runtime.store.events.ids("idx:all", limit=10_000)) == before
    batch = client.post("/api/v1/events/batch", headers=_auth(tokens), json={"events": [
        report | {"idempotency_key": "ok"}, report | {"idempotency_key": "x" * 129}]})
    body = _refused(batch, 400, "idempotency_key")
    assert body["problems"][0]["index"] == 1
    open311 = client.post("/open311/v2/requests.json", headers={"Idempotency-Key": "y" * 129},
                          data={"api_key": tokens[Role.INTEGRATION], "service_code": "06001",
                                "lat": point["lat"], "long": point["lon"],
                                "description": "idempotency limit"})
    assert open311.status_code == 400
    assert open311.get_json()[0]["description"].startswith("Idempotency-Key")


def test_unknown_api_paths_are_json_404(env):
    app, _, tokens, _ = env
    resp = app.server.test_client().get("/api/v1/no-such-thing", headers=_auth(tokens))
    assert resp.status_code == 404 and resp.is_json
    assert _refused(resp, 404, "path")


@pytest.mark.parametrize("method, url, allowed", [
    ("GET", "/api/v1/hotline/import", {"POST"}),
    ("DELETE", "/api/v1/events", {"GET", "POST"}),
    ("PUT", "/api/v1/events/20240101-000001", {"GET"}),
])
def test_a_wrong_method_is_405_with_allow(env, method, url, allowed):
    app, _, tokens, _ = env
    resp = app.server.test_client().open(url, method=method, headers=_auth(tokens))
    _refused(resp, 405, "method")
    assert allowed <= {m.strip() for m in resp.headers["Allow"].split(",")}


def _callback(app, name: str) -> tuple[str, dict]:
    for key, spec in app.callback_map.items():
        fn = spec.get("callback")
        if fn is not None and getattr(fn, "__wrapped__", fn).__name__ == name:
            return key, spec
    raise LookupError(name)


def _outputs(key: str) -> list[dict] | dict:
    parts = [p.rsplit(".", 1) for p in key.strip(".").split("...")]
    outs = [{"id": i, "property": p} for i, p in parts]
    return outs if key.startswith("..") else outs[0]


@pytest.mark.parametrize("name, value", [
    ("_render_panel", ["not", "an", "object"]), ("_render_panel", "51011700100202"),
    ("_render_event", "20240101-000001"), ("_render_event", 7),
])
def test_dash_callbacks_take_malformed_selections_without_a_5xx(env, name, value):
    app, _, tokens, _ = env
    key, spec = _callback(app, name)
    inputs = [{"id": i["id"], "property": i["property"], "value": None} for i in spec["inputs"]]
    inputs[0]["value"] = value
    resp = app.server.test_client().post("/_dash-update-component", headers=_auth(tokens),
                                         json={"output": key, "outputs": _outputs(key),
                                               "inputs": inputs, "state": [],
                                               "changedPropIds": []})
    assert resp.status_code in (200, 204), resp.get_data(as_text=True)[:300]


@pytest.mark.parametrize("trigger", [{"type": "event-move", "to": "bogus", "event": "x"},
                                     {"type": "event-move", "to": "signed", "event": ""}])
def test_a_forged_move_button_is_answered_not_crashed(env, trigger):
    app, _, tokens, _ = env
    key, _ = _callback(app, "_move")
    prop = json.dumps(trigger, separators=(",", ":"), sort_keys=True)
    body = {"output": key, "outputs": _outputs(key),
            "inputs": [[{"id": trigger, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "move-reason", "property": "value", "value": {"not": "text"}},
                      {"id": "lang", "property": "data", "value": "en"}],
            "changedPropIds": [f"{prop}.n_clicks"]}
    resp = app.server.test_client().post("/_dash-update-component", headers=_auth(tokens),
                                         json=body)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert "Not a move this screen offers" in resp.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/_dash-component-suites/no_such_package/x.js",
                                 "/_dash-component-suites/dash/no/such/file.v1_0_0m1.js"])
def test_an_unknown_dash_component_path_is_404_not_500(env, url):
    app, _, _, _ = env
    resp = app.server.test_client().get(url)
    body = _refused(resp, 404, "path")
    assert "registered" not in body["message"]


def test_a_line_break_in_a_page_path_is_sent_to_sign_in_not_a_500(env):
    app, _, _, _ = env
    resp = app.server.test_client().get("/geo/x%0D/y%0A.pbf")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?next=%2Fgeo%2Fx%250D%2Fy%250A.pbf"


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z",
                                  "1969-12-31T23:59:59Z"])
def test_a_report_time_outside_2000_to_2100_is_named(when):
    from dispatch.events.intake import IntakeError, parse

    with pytest.raises(IntakeError) as err:
        parse({"category": "06001", "lon": 103.9, "lat": 30.8, "description": "x",
               "occurred_at": when})
    assert err.value.problems[0].field == "occurred_at"
