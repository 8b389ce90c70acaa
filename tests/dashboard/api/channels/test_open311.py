"""Open311 GeoReport v2 on the real app (Flask test client, real Redis), JSON and XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Actor, Role
from dispatch.channels.open311.spec import Open311Status, open311_status
from dispatch.events.models import Status, categories
from dispatch.privacy.disclosure import Disclosure
from dispatch.store.server import EmbeddedRedis
from tests.support import running_app

INSIDE = {"lat": "30.806", "long": "103.893"}
OUTSIDE = {"lat": "30.8", "long": "103.5"}
V2 = "/open311/v2"


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="o311",
                     roles=(Role.INTEGRATION, Role.WORKER, Role.LEADER, Role.DEVICE)) as env:
        yield env


@pytest.fixture
def client(env):
    return env[0]


@pytest.fixture
def runtime(env):
    return env[1]


@pytest.fixture
def key(env):
    return env[2][Role.INTEGRATION]


def _post(client, key, fmt="json", headers=None, **form):
    data = {"api_key": key, "service_code": "06001", **INSIDE, **form}
    form = {k: v for k, v in data.items() if v is not None}
    return client.post(f"{V2}/requests.{fmt}", data=form, headers=headers or {})


def _new_id(client, key, **form) -> str:
    resp = _post(client, key, **form)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()[0]["service_request_id"]


def _xml(resp) -> ET.Element:
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert resp.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(resp.data)


def _json_error(resp, status: int, field: str) -> str:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert isinstance(body, list) and body[0]["code"] == status
    assert body[0]["description"].startswith(f"{field}:"), body
    return body[0]["description"]


def _xml_error(resp, status: int, field: str) -> None:
    assert resp.status_code == status
    root = _xml(resp)
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(status)
    assert root.findtext("error/description").startswith(f"{field}:")


# --- discovery and services ---------------------------------------------------------------

def test_discovery_json_names_the_endpoint_and_formats(client):
    doc = client.get(f"{V2}/discovery.json").get_json()
    endpoint = doc["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert doc["changeset"].endswith("+08:00") and "api_key" in doc["key_service"]


def test_discovery_xml(client):
    root = _xml(client.get(f"{V2}/discovery.xml"))
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml", "application/json"]


def test_services_json_lists_every_category(client):
    services = client.get(f"{V2}/services.json").get_json()
    assert [s["service_code"] for s in services] == list(categories())
    tilt = next(s for s in services if s["service_code"] == "20001")
    assert tilt["service_name"] == "井盖倾斜" and tilt["group"] == "物联告警"
    assert tilt["metadata"] is False and tilt["type"] == "realtime"
    assert "Manhole cover tilted" in tilt["keywords"] and "urgent" in tilt["description"]


def test_services_xml(client):
    root = _xml(client.get(f"{V2}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(categories())
    hotline = next(s for s in root if s.findtext("service_code") == "14001")
    assert hotline.findtext("metadata") == "false"
    assert hotline.findtext("group") == "民生诉求"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition(client, fmt):
    resp = client.get(f"{V2}/services/14001.{fmt}")
    assert resp.status_code == 200
    if fmt == "json":
        assert resp.get_json() == {"service_code": "14001", "attributes": []}
    else:
        root = _xml(resp)
        assert root.tag == "service_definition" and root.findtext("service_code") == "14001"


def test_unknown_service_definition_is_404_in_both_formats(client):
    assert "99998" in _json_error(client.get(f"{V2}/services/99998.json"), 404, "service_code")
    _xml_error(client.get(f"{V2}/services/99998.xml"), 404, "service_code")


def test_unknown_resource_and_format_answer_in_spec_format(client):
    _json_error(client.get(f"{V2}/nothing.json"), 404, "url")
    _xml_error(client.get(f"{V2}/services.xml/extra.xml"), 404, "url")
    _json_error(client.get(f"{V2}/services.csv"), 404, "url")


# --- POST requests --------------------------------------------------------------------------

def test_post_creates_an_open311_event_with_reporter_fields(client, runtime, key):
    resp = _post(client, key, description="井盖破损，有人差点摔倒", first_name="三",
                 last_name="张", phone="13812345678", email="zhangsan@example.com",
                 address_string="郫筒街道望丛中路1号", media_url="https://img.example.cn/a.jpg",
                 device_id="iphone-7")
    assert resp.status_code == 201
    body = resp.get_json()
    assert list(body[0]) == ["service_request_id", "service_notice", "account_id"]
    event = runtime.events.get(body[0]["service_request_id"], disclosure=Disclosure.MASKED)
    assert event["source"] == "open311" and event["category"]["code"] == "06001"
    assert event["reporter"] == {"name": "张*", "phone": "138****5678", "masked": True}
    assert event["location"]["address"] == "郫筒街道望丛中路1号"
    assert event["attachments"] == ["https://img.example.cn/a.jpg"]
    assert event["extra"]["open311"] == {"email": "zhangsan@example.com",
                                         "device_id": "iphone-7"}
    assert event["grid"]["micro"] == runtime.locator.locate(103.893, 30.806).micro


def test_post_xml_answers_service_requests(client, key):
    root = _xml(_post(client, key, fmt="xml", description="路灯不亮", service_code="06002"))
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")
    assert root.findtext("request/service_notice").startswith("一般事件")


def test_western_names_and_missing_description(client, runtime, key):
    rid = _new_id(client, key, first_name="John", last_name="Smith", service_code="02002")
    event = runtime.events.get(rid, disclosure=Disclosure.MASKED)
    assert event["reporter"]["name"] == "J*** S****"
    assert event["description"] == categories()["02002"].name


def test_idempotency_key_makes_a_retry_return_the_same_request(client, key):
    headers = {"Idempotency-Key": "retry-me-once"}
    first = _post(client, key, headers=headers, description="重试")
    again = _post(client, key, headers=headers, description="重试")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_api_key_is_403(client, fmt):
    resp = client.post(f"{V2}/requests.{fmt}", data={"service_code": "06001", **INSIDE})
    if fmt == "json":
        assert "not provided" in _json_error(resp, 403, "api_key")
    else:
        _xml_error(resp, 403, "api_key")


def test_empty_post_is_403_for_the_missing_key(client):
    _json_error(client.post(f"{V2}/requests.json"), 403, "api_key")


def test_unknown_api_key_is_403(client):
    _json_error(_post(client, "gd_not-a-real-token"), 403, "api_key")


@pytest.mark.parametrize("role", [Role.LEADER, Role.DEVICE])
def test_roles_that_may_not_post_are_403(client, env, role):
    assert role.value in _json_error(_post(client, env[2][role]), 403, "api_key")


def test_worker_key_may_post_and_bearer_header_works(client, env):
    assert _post(client, env[2][Role.WORKER], description="网格员上报").status_code == 201
    resp = client.post(f"{V2}/requests.json", data={"service_code": "06001", **INSIDE},
                       headers={"Authorization": f"Bearer {env[2][Role.INTEGRATION]}"})
    assert resp.status_code == 201


def test_unknown_service_code_is_404_and_missing_is_400(client, key):
    assert "12999" in _json_error(_post(client, key, service_code="12999"), 404, "service_code")
    _xml_error(_post(client, key, fmt="xml", service_code="12999"), 404, "service_code")
    _json_error(_post(client, key, service_code=None), 400, "service_code")


def test_outside_the_district_is_400_naming_lat_long(client, key):
    assert "outside" in _json_error(_post(client, key, **OUTSIDE), 400, "lat,long")
    _xml_error(_post(client, key, fmt="xml", **OUTSIDE), 400, "lat,long")


@pytest.mark.parametrize("form, field", [
    ({"lat": None, "long": None}, "lat,long"),
    ({"long": None}, "long"),
    ({"lat": "north"}, "lat"),
    ({"long": "nan"}, "long"),
    ({"lat": "95"}, "lat"),
    ({"phone": "call me"}, "phone"),
    ({"media_url": "not a url"}, "media_url"),
    ({"email": "nobody"}, "email"),
    ({"description": "长" * 2001}, "description"),
])
def test_bad_fields_are_400_naming_the_argument(client, key, form, field):
    _json_error(_post(client, key, **form), 400, field)


def test_json_body_is_refused_naming_body(client, key):
    resp = client.post(f"{V2}/requests.json", json={"api_key": key, "service_code": "06001"})
    _json_error(resp, 400, "body")


# --- GET requests -------------------------------------------------------------------------

def test_get_one_request_json(client, runtime, key):
    rid = _new_id(client, key, description="井盖松动", media_url="https://img.example.cn/b.jpg")
    [req] = client.get(f"{V2}/requests/{rid}.json").get_json()
    assert list(req)[:5] == ["service_request_id", "status", "status_notes", "service_name",
                             "service_code"]
    assert req["service_request_id"] == rid and req["status"] == "open"
    assert req["status_notes"] == "已上报，待核实受理（reported）"
    assert req["service_name"] == "井盖缺失破损" and req["description"] == "井盖松动"
    assert req["agency_responsible"] == "郫筒街道 › 和庄社区 › 和庄社区第1网格 › 丛安家园10栋"
    assert req["lat"] == 30.806 and req["long"] == 103.893
    assert req["media_url"] == "https://img.example.cn/b.jpg"
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert req[name].endswith("+08:00") and datetime.fromisoformat(req[name])
    event = runtime.events.get(rid, disclosure=Disclosure.MASKED)
    assert datetime.fromisoformat(req["expected_datetime"]).timestamp() == pytest.approx(
        event["due_at"], abs=1)


def test_get_one_request_xml_escapes_resident_text(client, key):
    text = "<script>alert(1)</script> & <b>井盖</b>\x01 ]]> \"quoted\""
    rid = _new_id(client, key, description=text)
    root = _xml(client.get(f"{V2}/requests/{rid}.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert request.find(".//script") is None and request.find(".//b") is None
    assert request.findtext("description") == text.replace("\x01", "")
    assert request.findtext("status") == "open"


def test_unknown_request_is_404(client):
    _json_error(client.get(f"{V2}/requests/19990101-000001.json"), 404, "service_request_id")
    _xml_error(client.get(f"{V2}/requests/19990101-000001.xml"), 404, "service_request_id")


def test_descriptions_are_published_with_phone_and_id_numbers_masked(client, key):
    rid = _new_id(client, key, description="联系13987654321，身份证510124199001011234")
    [req] = client.get(f"{V2}/requests/{rid}.json").get_json()
    assert req["description"] == "联系139****4321，身份证**************1234"


def test_withheld_classes_are_never_published(client, key):
    rid = _new_id(client, key, service_code="13001", description="独居老人需要关爱")
    _json_error(client.get(f"{V2}/requests/{rid}.json"), 404, "service_request_id")
    listed = client.get(f"{V2}/requests.json?service_request_id={rid}").get_json()
    assert listed == []


def test_list_by_ids_overrides_other_filters(client, key):
    a, b = _new_id(client, key), _new_id(client, key)
    query = f"service_request_id={a},{b},19990101-000009&service_code=01001&status=closed"
    got = client.get(f"{V2}/requests.json?{query}").get_json()
    assert sorted(r["service_request_id"] for r in got) == sorted([a, b])


def test_list_defaults_to_recent_and_filters_by_code(client, key):
    rid = _new_id(client, key, service_code="05002", description="乱停车")
    default = client.get(f"{V2}/requests.json").get_json()
    assert rid in [r["service_request_id"] for r in default]
    assert len(default) <= 1000
    times = [r["requested_datetime"] for r in default]
    assert times == sorted(times, reverse=True)
    by_code = client.get(f"{V2}/requests.json?service_code=05002,05001").get_json()
    assert rid in [r["service_request_id"] for r in by_code]
    assert {r["service_code"] for r in by_code} <= {"05002", "05001"}


def test_list_by_date_range(client, key):
    rid = _new_id(client, key, service_code="15002")
    now = datetime.now().astimezone()
    window = (f"start_date={(now.replace(year=now.year - 1)).date()}T00:00:00Z"
              f"&end_date={now.date()}T23:59:59%2B08:00")
    old = "start_date=2020-01-01T00:00:00Z&end_date=2020-02-01T00:00:00Z"
    start_only = f"start_date={now.date()}T00:00:00%2B08:00"
    assert rid not in _ids(client, f"service_code=15002&{old}")
    assert rid in _ids(client, f"service_code=15002&{start_only}")
    _json_error(client.get(f"{V2}/requests.json?{window}"), 400, "start_date,end_date")


def _ids(client, query: str) -> list[str]:
    resp = client.get(f"{V2}/requests.json?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["service_request_id"] for r in resp.get_json()]


def test_closed_requests_carry_the_reason_and_no_expected_time(client, runtime, key):
    rid = _new_id(client, key, service_code="01003", description="重复上报")
    runtime.events.move(rid, Status.CANCELLED, actor=Actor("op-311", Role.OPERATOR),
                        reason="重复工单")
    assert rid in _ids(client, "service_code=01003&status=closed")
    assert rid not in _ids(client, "service_code=01003&status=open")
    assert rid in _ids(client, "service_code=01003&status=open,closed")
    root = _xml(client.get(f"{V2}/requests.xml?service_request_id={rid}"))
    assert root.findtext("request/status") == "closed"
    assert root.findtext("request/status_notes") == "已作废（cancelled）：重复工单"
    assert root.findtext("request/expected_datetime") == ""
    [req] = client.get(f"{V2}/requests/{rid}.json").get_json()
    assert req["expected_datetime"] is None and req["status"] == "closed"


@pytest.mark.parametrize("query, field", [
    ("status=pending", "status"),
    ("service_code=99998", "service_code"),
    ("start_date=yesterday", "start_date"),
    ("end_date=2024-13-01T00:00:00Z", "end_date"),
    ("start_date=2024-02-01T00:00:00Z&end_date=2024-01-01T00:00:00Z", "end_date"),
])
def test_bad_filters_are_400_naming_the_argument(client, query, field):
    _json_error(client.get(f"{V2}/requests.json?{query}"), 400, field)
    _xml_error(client.get(f"{V2}/requests.xml?{query}"), 400, field)


def test_list_xml(client, key):
    rid = _new_id(client, key, service_code="03001")
    root = _xml(client.get(f"{V2}/requests.xml?service_code=03001"))
    ids = [r.findtext("service_request_id") for r in root.findall("request")]
    assert rid in ids


@pytest.mark.parametrize("status", list(Status))
def test_status_mapping_follows_status_open(status):
    closed = {Status.CLOSED, Status.ARCHIVED, Status.CANCELLED}
    expected = Open311Status.CLOSED if status in closed else Open311Status.OPEN
    assert open311_status(status) is expected


def test_storage_down_is_503_in_the_spec_format(cache_dir, demo_grids, tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    runtime = open_runtime(Settings(redis_url=server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path / "data"), warm=False)
    try:
        client = create_app(runtime=runtime).server.test_client()
        server.stop()
        resp = client.get(f"{V2}/requests.json")
        _json_error(resp, 503, "service")
        assert resp.headers["Retry-After"] == "1"
        _xml_error(client.get(f"{V2}/requests/20260101-000001.xml"), 503, "service")
    finally:
        runtime.close()
        server.stop()
