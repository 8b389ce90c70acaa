"""Every route, Dash callback and Socket.IO event, for every role and for anonymous callers,
against the one grant table: the gate lets through exactly whom the table names.

The walk starts from what the app serves (its URL map, its callback map, the Socket.IO
server's handlers), not from a list kept here, so a route added without an access entry
fails the first test, and one whose entry disagrees with what happens fails the others.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Blueprint

from dashboard.api.access import permission_of
from dashboard.app import create_app
from dashboard.live import SOCKET_PERMISSIONS
from dashboard.pages.callbacks import permission_of as callback_permission
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.policy import Permission, grant
from dispatch.access.roles import Role
from geo.model import Tier

CALLERS: list[Role | None] = [None, *Role]
DASH_UPDATE = "/_dash-update-component"


def _id(caller: Role | None) -> str:
    return caller.value if caller else "anonymous"


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    app = create_app(runtime=runtime)
    tokens = {role: runtime.auth.create_token(name=f"access-{role.value}", role=role)
              for role in Role}
    yield app, runtime, tokens
    runtime.close()


def _headers(tokens, caller: Role | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[caller]}"} if caller else {}


def _routes(server) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) for everything the server answers."""
    return sorted((rule.endpoint, method, rule.rule) for rule in server.url_map.iter_rules()
                  for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))


def test_every_route_has_an_access_entry(env):
    server = env[0].server
    missing = [f"{m} {rule} ({endpoint})" for endpoint, m, rule in _routes(server)
               if permission_of(server, endpoint) is None]
    assert missing == [], f"routes with no access entry: {missing}"


def test_a_route_added_without_an_entry_is_refused_and_found(redis_server, cache_dir,
                                                             demo_grids, tmp_path):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path), warm=False)
    try:
        app = create_app(runtime=runtime)
        extra = Blueprint("forgotten", __name__)
        extra.add_url_rule("/api/v1/forgotten", "open", lambda: "open to all?")
        server = app.server
        server.register_blueprint(extra)
        token = runtime.auth.create_token(name="access-admin", role=Role.ADMIN)
        resp = server.test_client().get("/api/v1/forgotten",
                                        headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code == 403 and "no access rule" in resp.get_json()["message"]
        assert permission_of(server, "forgotten.open") is None
    finally:
        runtime.close()


def _url(rule: str, runtime) -> str:
    micro = str(runtime.grids.tier(Tier.MICRO)["code"].iloc[0])
    values = {"digest": runtime.layer_digest, "name": "micro", "code": micro, "fmt": "json",
              "event_id": "00000000-000000", "device_id": "no-such-device",
              "rest": "no-such-resource.json", "path": "somewhere", "filename": "theme.css",
              "package_name": "dash",
              "fingerprinted_path": "dash-renderer/build/dash_renderer.v1_0_0m1.min.js",
              "request_id": "00000000-000000", "token_id": "0000000000000",
              "task_id": "00000000-000000.1", "worker_id": "W-none", "token": "no-such-link",
              "drill_id": "DR-none",
              "z": "1", "x": "1", "y": "1"}
    return re.sub(r"<(?:[^:>]+:)?([a-z_]+)>", lambda m: values[m.group(1)], rule)


def _refused_by_gate(resp, caller: Role | None, endpoint: str) -> bool:
    """The gate's refusals in each channel's shape (the views' own 4xx are not refusals)."""
    if endpoint.startswith("open311."):
        return resp.status_code == 403 and "api_key" in resp.get_data(as_text=True)
    if resp.status_code == 302:
        return resp.headers["Location"].startswith("/login?next=")  # not /logout's own
    body = resp.get_json(silent=True) or {}
    return resp.status_code in (401, 403) and body.get("error") in ("unauthenticated",
                                                                    "forbidden")


def _expected_refusal(caller: Role | None, permission: Permission) -> bool:
    return grant(caller, permission) is None


@pytest.mark.parametrize("caller", CALLERS, ids=_id)
def test_each_route_lets_through_exactly_the_granted(env, caller):
    app, runtime, tokens = env
    server = app.server
    client = server.test_client()
    wrong = []
    for endpoint, method, rule in _routes(server):
        permission = permission_of(server, endpoint)
        resp = client.open(_url(rule, runtime), method=method,
                           headers=_headers(tokens, caller))
        refused = _refused_by_gate(resp, caller, endpoint)
        if refused != _expected_refusal(caller, permission):
            wrong.append(f"{method} {rule}: {permission.value} → {resp.status_code} "
                         f"{resp.get_data(as_text=True)[:120]!r}")
        if refused and caller is not None and resp.status_code == 401:
            wrong.append(f"{method} {rule}: a known caller was answered 401")
    assert wrong == [], f"{_id(caller)}: {wrong}"


def _dash_body(key: str, spec: dict) -> dict:
    """A callback request with empty inputs, as the renderer would send on first load."""
    def prop(item: dict) -> dict:
        ident = item["id"]
        if ident.startswith("{"):  # pattern-matching id: ALL matches nothing here
            return []
        return {"id": ident, "property": item["property"], "value": None}

    outputs = [o.rsplit(".", 1) for o in (key.strip(".").split("...") if key.startswith("..")
                                         else [key])]
    outs = [{"id": i, "property": p} for i, p in outputs]
    return {"output": key, "outputs": outs if key.startswith("..") else outs[0],
            "inputs": [prop(i) for i in spec["inputs"]],
            "state": [prop(s) for s in spec["state"]], "changedPropIds": []}


def _callbacks(app) -> list[tuple[str, dict, str, Permission | None]]:
    """(key, spec, name, permission) of every server-side callback the app answers."""
    out = []
    for key, spec in app.callback_map.items():
        if "callback" in spec:
            fn = spec["callback"]
            name = getattr(fn, "__wrapped__", fn).__name__
            out.append((key, spec, name, callback_permission(fn)))
    return out


def test_every_server_callback_names_its_permission(env):
    found = _callbacks(env[0])
    missing = [name for _, _, name, permission in found if permission is None]
    assert found and missing == [], f"callbacks with no permission: {missing}"
    assert {name for *_, name, _ in found} >= {"_render_event", "_move"}


@pytest.mark.parametrize("caller", CALLERS, ids=_id)
def test_each_callback_lets_through_exactly_the_granted(env, caller):
    app, _, tokens = env
    client = app.server.test_client()
    wrong = []
    for key, spec, name, permission in _callbacks(app):
        resp = client.post(DASH_UPDATE, json=_dash_body(key, spec),
                           headers=_headers(tokens, caller))
        body = resp.get_json(silent=True) or {}
        refused = resp.status_code in (401, 403) and body.get("error") in ("unauthenticated",
                                                                          "forbidden")
        # the route needs the page; the callback then needs its own permission as well
        expected = _expected_refusal(caller, Permission.PAGE_VIEW) or \
            _expected_refusal(caller, permission)
        if refused != expected or resp.status_code >= 500:
            wrong.append(f"{name} ({permission.value}) → {resp.status_code} "
                         f"{resp.get_data(as_text=True)[:120]!r}")
    assert wrong == [], f"{_id(caller)}: {wrong}"


def test_every_socket_event_has_an_entry(env):
    socketio = env[0].server.extensions["socketio"]
    served = {(ns, event) for ns, handlers in socketio.server.handlers.items()
              for event in handlers}
    assert served and served <= set(SOCKET_PERMISSIONS), \
        f"Socket.IO handlers with no access entry: {served - set(SOCKET_PERMISSIONS)}"


@pytest.mark.parametrize("caller", CALLERS, ids=_id)
def test_each_socket_event_lets_through_exactly_the_granted(env, caller):
    app, _, tokens = env
    socketio = app.server.extensions["socketio"]
    for (namespace, event), permission in SOCKET_PERMISSIONS.items():
        assert event == "connect", "only connect is handled today"
        auth = {"token": tokens[caller]} if caller else None
        client = socketio.test_client(app.server, namespace=namespace, auth=auth)
        try:
            assert client.is_connected(namespace) == (grant(caller, permission) is not None)
        finally:
            if client.is_connected(namespace):
                client.disconnect(namespace=namespace)


def test_an_anonymous_page_gets_no_event_and_no_move(env):
    """The event panel's callback, asked with no session: refused, never a default role."""
    app = env[0]
    key = next(k for k, _, name, _ in _callbacks(app) if name == "_render_event")
    body = _dash_body(key, app.callback_map[key])
    body["inputs"][0]["value"] = {"id": "00000000-000000"}
    resp = app.server.test_client().post(DASH_UPDATE, json=body)
    assert resp.status_code == 401 and "event-panel-body" not in resp.get_data(as_text=True)


def test_the_matrix_command_prints_the_table_the_readme_shows():
    from pathlib import Path

    from click.testing import CliRunner

    from dashboard.cli import main

    out = CliRunner().invoke(main, ["access", "matrix"])
    assert out.exit_code == 0
    lines = out.output.strip().splitlines()
    assert lines[0].startswith("| permission | anonymous | operator")
    assert len(lines) == 2 + len(Permission)
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    assert out.output.strip() in readme, "README's access table differs from the command's"


def test_json_bodies_name_the_refusal(env):
    app, _, tokens = env
    client = app.server.test_client()
    anon = client.get("/api/v1/events")
    assert anon.status_code == 401 and anon.get_json()["field"] == "Authorization"
    device = client.get("/api/v1/events", headers=_headers(tokens, Role.DEVICE))
    body = device.get_json()
    assert device.status_code == 403 and body["field"] == "role"
    assert "event.read" in body["message"] and "device" in body["message"]
    assert json.loads(json.dumps(body))  # plain JSON, nothing else
