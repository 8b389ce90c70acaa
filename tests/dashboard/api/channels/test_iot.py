"""IoT device registry and alarm webhook on the real app (Flask test client, real Redis)."""

from __future__ import annotations

import json
import time
import uuid
from itertools import takewhile

import pytest

from dispatch.access.roles import Actor, Role
from dispatch.events.models import Status
from dispatch.events.service import EventFilter
from dispatch.privacy.disclosure import Disclosure
from tests.support import running_app

LON, LAT = 103.893, 30.806
CLOSE_PATH = (Status.REGISTERED, Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS,
              Status.FEEDBACK, Status.VERIFIED, Status.CLOSED)


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="iot",
                     roles=(Role.OPERATOR, Role.ADMIN, Role.DEVICE, Role.INTEGRATION,
                            Role.LEADER)) as env:
        yield env


@pytest.fixture
def client(env):
    return env[0]


@pytest.fixture
def runtime(env):
    return env[1]


def _auth(env, role: Role) -> dict:
    return {"Authorization": f"Bearer {env[2][role]}"}


def _device(env, **fields):
    body = {"device_id": f"MC-{uuid.uuid4().hex[:8]}", "type": "manhole_cover", "lon": LON,
            "lat": LAT, "name": "望丛中路3号井盖", "address": "郫筒街道望丛中路3号", **fields}
    return env[0].post("/api/v1/iot/devices", json=body, headers=_auth(env, Role.OPERATOR))


def _new_device(env, **fields) -> dict:
    resp = _device(env, **fields)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["device"]


_BOUND: dict[str, str] = {}


def _device_token(env, device_id: str) -> str:
    """A device token bound to ``device_id``, made once per device."""
    if device_id not in _BOUND:
        _BOUND[device_id] = env[1].auth.create_token(name=f"iot-{device_id}", role=Role.DEVICE,
                                                     device=device_id)
    return _BOUND[device_id]


def _alarm(env, role=Role.DEVICE, **body):
    """Posted as ``role``; a device speaks with its own token when it is registered (else with
    a device token bound to no device)."""
    device_id = body.get("device_id")
    if role is Role.DEVICE and isinstance(device_id, str) \
            and env[1].store.auth.device_registered(device_id):
        headers = {"Authorization": f"Bearer {_device_token(env, device_id)}"}
    else:
        headers = _auth(env, role)
    return env[0].post("/api/v1/iot/alarms", json=body, headers=headers)


def _problem(resp, status: int, field: str) -> dict:
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert body["field"] == field, body
    return body


def _events_of(runtime, device: dict) -> list[dict]:
    found = runtime.events.list(EventFilter(grid=device["grid"]["micro"], limit=1000),
                                disclosure=Disclosure.MASKED)
    return [e for e in found if e["external_id"] == device["device_id"]]


# --- registry ------------------------------------------------------------------------------

def test_register_locates_the_device_once(env, runtime):
    device = _new_device(env, dedupe_window_s=120)
    where = runtime.locator.locate(LON, LAT)
    assert device["grid"] == {"micro": where.micro, "general": where.general,
                              "total": where.total, "street": where.street}
    assert device["type"] == "manhole_cover" and device["dedupe_window_s"] == 120
    assert device["registered_by"] == "iot-operator"


def test_register_again_updates(env):
    device = _new_device(env)
    again = _device(env, device_id=device["device_id"], name="新名字", type="camera")
    assert again.status_code == 200
    body = again.get_json()
    assert body["outcome"] == "updated" and body["device"]["name"] == "新名字"
    assert body["device"]["type"] == "camera"


def test_registration_is_recorded_in_the_change_stream(env, runtime):
    device = _new_device(env)
    entry = next(c for c in runtime.store.changes(count=20)
                 if c.get("device") == device["device_id"])
    assert entry["kind"] == "device.registered" and entry["actor"] == "iot-operator"


def test_register_outside_the_district_is_422(env):
    body = _problem(_device(env, lon=103.5, lat=30.8), 422, "lon,lat")
    assert "outside" in body["message"]


@pytest.mark.parametrize("fields, field", [
    ({"type": "toaster"}, "type"),
    ({"device_id": "bad id!"}, "device_id"),
    ({"lat": 95}, "lat"),
    ({"dedupe_window_s": 0}, "dedupe_window_s"),
    ({"colour": "red"}, "colour"),
])
def test_bad_registration_names_the_field(env, fields, field):
    _problem(_device(env, **fields), 422, field)


def test_only_operators_and_admins_register(env, client):
    body = {"device_id": "MC-x", "type": "camera", "lon": LON, "lat": LAT}
    for role in (Role.DEVICE, Role.LEADER, Role.INTEGRATION):
        resp = client.post("/api/v1/iot/devices", json=body, headers=_auth(env, role))
        _problem(resp, 403, "role")
    _problem(client.post("/api/v1/iot/devices", json=body), 401, "Authorization")
    resp = client.post("/api/v1/iot/devices", json=body | {"device_id": f"CAM-{uuid.uuid4()}"[:20]},
                       headers=_auth(env, Role.ADMIN))
    assert resp.status_code == 201


def test_list_and_get_devices(env, client):
    device = _new_device(env)
    listed = client.get("/api/v1/iot/devices", headers=_auth(env, Role.LEADER)).get_json()
    assert device["device_id"] in [d["device_id"] for d in listed["devices"]]
    one = client.get(f"/api/v1/iot/devices/{device['device_id']}",
                     headers=_auth(env, Role.OPERATOR))
    assert one.get_json() == device
    missing = client.get("/api/v1/iot/devices/NOPE-1", headers=_auth(env, Role.OPERATOR))
    _problem(missing, 404, "device_id")
    _problem(client.get("/api/v1/iot/devices", headers=_auth(env, Role.DEVICE)), 403, "role")


# --- alarms --------------------------------------------------------------------------------

def test_alarm_creates_an_event_from_the_registry(env, runtime):
    device = _new_device(env)
    resp = _alarm(env, device_id=device["device_id"], alarm="tilt", value=12.5,
                  at="2026-03-01T08:30:00")
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["outcome"] == "created" and body["count"] == 1
    event = runtime.events.get(body["event_id"], disclosure=Disclosure.MASKED)
    assert event["source"] == "iot" and event["category"]["code"] == "20001"
    assert event["severity"] == "urgent"
    assert event["location"] == {"lon": LON, "lat": LAT, "address": "郫筒街道望丛中路3号",
                                 "building": ""}
    assert event["grid"]["micro"] == device["grid"]["micro"]
    assert event["description"].startswith("智慧井盖倾斜告警：望丛中路3号井盖")
    assert "倾角 12.5°" in event["description"]
    assert "告警时间 2026-03-01 08:30:00" in event["description"]
    assert event["occurred_at"] == "2026-03-01T08:30:00+08:00"
    assert event["extra"]["iot"]["alarm"] == "tilt"


@pytest.mark.parametrize("alarm, code, severity, words", [
    ("opened", "20002", "urgent", "智慧井盖开启告警"),
    ("displaced", "20003", "urgent", "智慧井盖位移告警"),
    ("water_level", "20004", "urgent", "智慧井盖水位超限告警"),
    ("low_battery", "20005", "routine", "智慧井盖电量低告警"),
    ("camera", "20006", "urgent", "智慧井盖智能识别告警"),
    ("smoke", "11001", "urgent", "智慧井盖烟雾告警"),
])
def test_alarm_types_pick_their_category(env, runtime, alarm, code, severity, words):
    device = _new_device(env)
    body = _alarm(env, role=Role.INTEGRATION, device_id=device["device_id"],
                  alarm=alarm).get_json()
    event = runtime.events.get(body["event_id"], disclosure=Disclosure.MASKED)
    assert event["category"]["code"] == code and event["severity"] == severity
    assert event["description"].startswith(words)


def test_unknown_device_is_404_naming_device_id(env):
    body = _problem(_alarm(env, role=Role.INTEGRATION, device_id="GHOST-404", alarm="tilt"),
                    404, "device_id")
    assert "GHOST-404" in body["message"] and body["device_id"] == "GHOST-404"


def test_unknown_alarm_is_422_naming_alarm(env):
    device = _new_device(env)
    body = _problem(_alarm(env, device_id=device["device_id"], alarm="explode"), 422, "alarm")
    assert "tilt" in body["message"]


@pytest.mark.parametrize("body, field", [
    ({"alarm": "tilt"}, "device_id"),
    ({"device_id": "X", "alarm": "tilt", "at": "soon"}, "at"),
    ({"device_id": "X", "alarm": "tilt", "value": "v" * 101}, "value"),
    ({"device_id": "X", "alarm": "tilt", "rssi": -70}, "rssi"),
])
def test_bad_alarm_bodies_name_the_field(env, body, field):
    _problem(_alarm(env, **body), 422, field)


def test_alarm_body_must_be_json(env, client):
    resp = client.post("/api/v1/iot/alarms", data="tilt!", headers=_auth(env, Role.DEVICE))
    _problem(resp, 400, "body")


def test_only_devices_and_integrations_post_alarms(env):
    device = _new_device(env)
    for role in (Role.OPERATOR, Role.LEADER):
        _problem(_alarm(env, role=role, device_id=device["device_id"], alarm="tilt"), 403,
                 "role")


def test_fifty_alarms_from_a_flapping_cover_make_one_event(env, runtime):
    device = _new_device(env)
    results = [_alarm(env, device_id=device["device_id"], alarm="tilt", value=i)
               for i in range(50)]
    bodies = [r.get_json() for r in results]
    assert [r.status_code for r in results] == [201] + [200] * 49
    assert [b["outcome"] for b in bodies] == ["created"] + ["folded"] * 49
    assert {b["event_id"] for b in bodies} == {bodies[0]["event_id"]}
    assert [b["count"] for b in bodies] == list(range(1, 51))
    events = _events_of(runtime, device)
    assert len(events) == 1 and events[0]["count"] == 50


def test_after_the_event_is_closed_a_new_alarm_makes_a_new_event(env, runtime):
    device = _new_device(env)
    first = _alarm(env, device_id=device["device_id"], alarm="opened").get_json()
    _alarm(env, device_id=device["device_id"], alarm="opened")
    operator = Actor("op-iot", Role.OPERATOR)
    for status in CLOSE_PATH:
        runtime.events.move(first["event_id"], status, actor=operator)
    after = _alarm(env, device_id=device["device_id"], alarm="opened")
    assert after.status_code == 201
    body = after.get_json()
    assert body["outcome"] == "created" and body["event_id"] != first["event_id"]
    assert body["count"] == 1
    assert runtime.events.get(first["event_id"], disclosure=Disclosure.MASKED)["count"] == 2


def test_another_alarm_type_is_another_event(env):
    device = _new_device(env)
    tilt = _alarm(env, device_id=device["device_id"], alarm="tilt").get_json()
    water = _alarm(env, device_id=device["device_id"], alarm="water_level").get_json()
    assert water["outcome"] == "created" and water["event_id"] != tilt["event_id"]


def test_a_device_window_shorter_than_the_gap_opens_a_new_event(env):
    device = _new_device(env, dedupe_window_s=0.5)
    first = _alarm(env, device_id=device["device_id"], alarm="tilt").get_json()
    time.sleep(0.8)
    second = _alarm(env, device_id=device["device_id"], alarm="tilt").get_json()
    assert second["outcome"] == "created" and second["event_id"] != first["event_id"]


def test_app_config_sets_the_default_window(env, client):
    device = _new_device(env)
    client.application.config["IOT_DEDUPE_WINDOW_S"] = 0.5
    try:
        first = _alarm(env, device_id=device["device_id"], alarm="displaced").get_json()
        time.sleep(0.8)
        second = _alarm(env, device_id=device["device_id"], alarm="displaced").get_json()
    finally:
        del client.application.config["IOT_DEDUPE_WINDOW_S"]
    assert second["outcome"] == "created" and second["event_id"] != first["event_id"]


def test_a_retried_alarm_id_is_not_counted_twice(env):
    device = _new_device(env)
    body = {"device_id": device["device_id"], "alarm": "low_battery", "value": 9,
            "alarm_id": "msg-0001"}
    first = _alarm(env, **body).get_json()
    again = _alarm(env, **body)
    assert again.status_code == 200
    assert again.get_json()["outcome"] == "repeat" and again.get_json()["count"] == 1
    assert again.get_json()["event_id"] == first["event_id"]


# --- device tokens speak for their own device ------------------------------------------------

def _post(env, token: str, **body):
    return env[0].post("/api/v1/iot/alarms", json=body,
                       headers={"Authorization": f"Bearer {token}"})


def test_a_device_token_raises_alarms_for_its_own_device_only(env, runtime):
    mine, other = _new_device(env), _new_device(env)
    token = _device_token(env, mine["device_id"])
    newest = runtime.store.changes(count=1)[0]["id"]
    refused = _problem(_post(env, token, device_id=other["device_id"], alarm="opened"), 403,
                       "device_id")
    assert refused["device_id"] == other["device_id"]
    assert mine["device_id"] in refused["message"] and other["device_id"] in refused["message"]
    assert _events_of(runtime, other) == []
    since = takewhile(lambda c: c["id"] != newest, runtime.store.changes(count=100))
    assert not [c for c in since if other["device_id"] in json.dumps(c, ensure_ascii=False)]
    assert _post(env, token, device_id=mine["device_id"], alarm="opened").status_code == 201


def test_a_device_token_cannot_reach_an_unregistered_device_either(env):
    token = _device_token(env, _new_device(env)["device_id"])
    _problem(_post(env, token, device_id="GHOST-403", alarm="tilt"), 403, "device_id")


def test_a_device_token_bound_to_no_device_raises_no_alarm(env, runtime):
    device = _new_device(env)
    unbound = env[2][Role.DEVICE]
    body = _problem(_post(env, unbound, device_id=device["device_id"], alarm="tilt"), 403,
                    "device_id")
    assert "bound to no device" in body["message"] and "--device" in body["message"]
    assert _events_of(runtime, device) == []


def test_an_integration_raises_alarms_for_any_device(env):
    first, second = _new_device(env), _new_device(env)
    for device in (first, second):
        resp = _alarm(env, role=Role.INTEGRATION, device_id=device["device_id"], alarm="tilt")
        assert resp.status_code == 201, resp.get_json()


def test_a_bad_body_from_a_device_token_is_still_named_by_its_field(env):
    token = _device_token(env, _new_device(env)["device_id"])
    _problem(_post(env, token, alarm="tilt"), 422, "device_id")
