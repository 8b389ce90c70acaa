"""API tokens: listed by id, revoked from the command line or the admin API, expiring; a
revoked token's calls fail within the cache's second and its websockets are closed."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from dashboard.app import create_app
from dashboard.cli import main
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access import credentials
from dispatch.access.credentials import TOKEN_CACHE_S, Auth, AuthError
from dispatch.access.roles import Role


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    app = create_app(runtime=runtime)
    admin = runtime.auth.create_token(name="tokens-admin", role=Role.ADMIN)
    yield app, runtime, {"Authorization": f"Bearer {admin}"}
    runtime.close()


def _get(app, token: str, url: str = "/api/v1/events?limit=1"):
    return app.server.test_client().get(url, headers={"Authorization": f"Bearer {token}"})


def test_a_revocation_reaches_another_process_within_the_cache_second(env, monkeypatch):
    _, runtime, _ = env
    token = runtime.auth.create_token(name="tokens-other-process", role=Role.INTEGRATION)
    elsewhere = Auth(runtime.store.auth)  # another process: its own cache
    assert elsewhere.from_token(token).name == "tokens-other-process"
    info = next(i for i in runtime.auth.tokens() if i.name == "tokens-other-process")
    runtime.auth.revoke(info.id, actor="test")
    assert TOKEN_CACHE_S <= 1.0
    now = time.monotonic()
    monkeypatch.setattr(credentials.time, "monotonic", lambda: now + TOKEN_CACHE_S)
    with pytest.raises(AuthError, match="revoked"):
        elsewhere.from_token(token)


def test_revoked_over_the_admin_api_fails_at_once_here(env):
    app, _, admin = env
    client = app.server.test_client()
    made = client.post("/api/v1/tokens", headers=admin,
                       json={"name": "tokens-api", "role": "integration", "expires_days": 30})
    assert made.status_code == 201
    token = made.get_json()["token"]
    assert _get(app, token).status_code == 200
    listed = client.get("/api/v1/tokens", headers=admin).get_json()["tokens"]
    mine = next(t for t in listed if t["name"] == "tokens-api")
    assert token not in json.dumps(listed) and mine["expires_at"] > time.time() + 29 * 86400
    assert client.delete(f"/api/v1/tokens/{mine['id']}", headers=admin).status_code == 200
    refused = _get(app, token)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["message"]
    assert client.delete(f"/api/v1/tokens/{mine['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"name": "", "role": "integration"}, "name"), ({"name": "x", "role": "system"}, "role"),
    ({"name": "x", "role": "worker", "scope": "city"}, "scope"),
    ({"name": "x", "role": "worker"}, "scope"),  # the district: a worker would read nothing
    ({"name": "x", "role": "worker", "scope": "street:510117001"}, "scope"),
    ({"name": "x", "role": "leader", "expires_days": -1}, "expires_days"),
    ({"name": "x", "role": "leader", "expires_days": True}, "expires_days"),
])
def test_bad_token_requests_name_the_field(env, body, field):
    app, _, admin = env
    resp = app.server.test_client().post("/api/v1/tokens", headers=admin, json=body)
    assert resp.status_code == 422 and resp.get_json()["field"] == field


def test_an_expired_token_is_refused_saying_so(env):
    app, runtime, _ = env
    token = runtime.auth.create_token(name="tokens-short", role=Role.OPERATOR,
                                      expires_in_s=0.05)
    time.sleep(0.1)
    refused = _get(app, token)
    assert refused.status_code == 401 and "expired" in refused.get_json()["message"]


def test_a_revoked_tokens_websocket_is_closed_and_screens_see_no_token(env):
    app, runtime, _ = env
    socketio = app.server.extensions["socketio"]
    token = runtime.auth.create_token(name="tokens-socket", role=Role.OPERATOR)
    other = runtime.auth.create_token(name="tokens-socket-other", role=Role.OPERATOR)
    doomed = socketio.test_client(app.server, namespace="/live", auth={"token": token})
    kept = socketio.test_client(app.server, namespace="/live", auth={"token": other})
    assert doomed.is_connected("/live") and kept.is_connected("/live")
    info = next(i for i in runtime.auth.tokens() if i.name == "tokens-socket")
    revoked_at = time.monotonic()
    runtime.auth.revoke(info.id, actor="test")
    deadline = time.monotonic() + 10  # a liveness bound, not the figure
    while doomed.is_connected("/live") and time.monotonic() < deadline:
        time.sleep(0.02)
    print(f"\nwebsocket closed {time.monotonic() - revoked_at:.2f} s after revocation")
    assert not doomed.is_connected("/live")
    assert kept.is_connected("/live")
    received = json.dumps(kept.get_received("/live"))
    assert info.digest not in received and "token.revoked" not in received
    kept.disconnect(namespace="/live")


def test_the_command_line_lists_and_revokes(env, redis_server, monkeypatch):
    _, runtime, _ = env
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    runner = CliRunner()
    device = _registered_device(runtime, "TOK-CLI-1")
    made = runner.invoke(main, ["tokens", "create", "--role", "device", "--name",
                                "tokens-cli", "--device", device, "--expires-days", "7"])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    listed = runner.invoke(main, ["tokens", "list"])
    line = next(x for x in listed.output.splitlines() if x.endswith("tokens-cli"))
    assert token not in listed.output and "device" in line and device in line
    token_id = line.split()[0]
    assert runner.invoke(main, ["tokens", "revoke", "abc"]).exit_code != 0
    revoked = runner.invoke(main, ["tokens", "revoke", token_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    with pytest.raises(AuthError):
        Auth(runtime.store.auth).from_token(token)


# --- device tokens name their device ---------------------------------------------------------

def _registered_device(runtime, device_id: str) -> str:
    from dispatch.access.roles import Actor

    runtime.devices.register({"device_id": device_id, "type": "smoke", "lon": 103.893,
                              "lat": 30.806}, actor=Actor("tokens-test", Role.OPERATOR))
    return device_id


@pytest.mark.parametrize("body, named", [
    ({"role": "device"}, "device is required for a device token"),
    ({"role": "device", "device": "  "}, "device is required for a device token"),
    ({"role": "device", "device": "TOK-GHOST"}, "device 'TOK-GHOST' is not registered"),
    ({"role": "device", "device": 7}, "device must be the id of a registered device"),
    ({"role": "integration", "device": "TOK-API-1"}, "device is for device tokens only"),
])
def test_a_device_token_needs_its_registered_device_and_only_it_names_one(env, body, named):
    app, runtime, admin = env
    _registered_device(runtime, "TOK-API-1")
    resp = app.server.test_client().post("/api/v1/tokens", headers=admin,
                                         json={"name": "tokens-bad-device", **body})
    assert resp.status_code == 422, resp.get_json()
    refusal = resp.get_json()
    assert refusal["field"] == "device" and named in refusal["message"]
    assert "tokens-bad-device" not in {i.name for i in runtime.auth.tokens()}


def test_a_device_token_is_bound_and_listed_with_its_device(env):
    app, runtime, admin = env
    device = _registered_device(runtime, "TOK-API-2")
    client = app.server.test_client()
    made = client.post("/api/v1/tokens", headers=admin,
                       json={"name": "tokens-bound", "role": "device", "device": device})
    assert made.status_code == 201 and made.get_json()["device"] == device
    listed = client.get("/api/v1/tokens", headers=admin).get_json()["tokens"]
    mine = next(t for t in listed if t["name"] == "tokens-bound")
    assert mine["device"] == device and mine["role"] == "device"
    other = next(t for t in listed if t["name"] == "tokens-admin")
    assert other["device"] is None
    assert runtime.auth.from_token(made.get_json()["token"]).device == device


def test_the_document_names_the_device_field(env):
    app, _, _ = env
    doc = app.server.test_client().get("/openapi.json").get_json()
    schema = doc["paths"]["/api/v1/tokens"]["post"]["requestBody"]["content"][
        "application/json"]["schema"]
    assert "device" in schema["properties"]
