"""The events REST API on the real app: Flask test client, real Redis, bearer tokens.

The Redis server is shared with the rest of the session, so counts are compared before and
after. The app's clock is moved by hand, well ahead of real time, and list queries are
pinned to a time window only their own events occupy.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
import redis as redis_lib

from dashboard.app import MAX_BODY_BYTES, create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from dispatch.events.intake import MAX_BATCH
from dispatch.events.workflow import ManualClock
from dispatch.store.auth import token_digest
from geo.model import Tier

OUTSIDE = {"lon": 103.5, "lat": 30.8}
START = float(int(time.time()) + 200 * 86400)
HOUR = 3600.0


@pytest.fixture(scope="module")
def runtime(redis_server, cache_dir, demo_grids, tmp_path_factory):
    settings = Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                        data_dir=tmp_path_factory.mktemp("data"))
    rt = open_runtime(settings)
    rt.clock = ManualClock(t=START)  # before anything builds the intake or the service
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def rdb(redis_server):
    """A plain client of the app's Redis, for looking at what was stored."""
    client = redis_lib.Redis.from_url(redis_server.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def app(runtime):
    return create_app(runtime=runtime).server


@pytest.fixture(scope="module")
def clock(runtime) -> ManualClock:
    return runtime.clock


@pytest.fixture(scope="module")
def tokens(runtime) -> dict[Role, str]:
    return {role: runtime.auth.create_token(name=f"api-{role.value}", role=role)
            for role in (Role.OPERATOR, Role.WORKER, Role.LEADER, Role.INTEGRATION)}


@pytest.fixture(scope="module")
def api(app, tokens):
    """A test client that sends one role's bearer token: ``api.post(..., role=Role.X)``."""
    return _Api(app.test_client(), tokens)


class _Api:
    def __init__(self, client, tokens) -> None:
        self.client, self._tokens = client, tokens

    def _headers(self, role, headers):
        out = dict(headers or {})
        if role is not None:
            out.setdefault("Authorization", f"Bearer {self._tokens[role]}")
        return out

    def get(self, url, *, role=Role.OPERATOR, headers=None, **kw):
        return self.client.get(url, headers=self._headers(role, headers), **kw)

    def post(self, url, *, role=Role.OPERATOR, headers=None, **kw):
        return self.client.post(url, headers=self._headers(role, headers), **kw)


@pytest.fixture(scope="module")
def points(demo_grids) -> list[dict]:
    """One point well inside a micro-grid of each street, so grids and streets all differ."""
    micro = demo_grids.tier(Tier.MICRO).sort_values("code")
    micro = micro.assign(street=micro["code"].str[:9]).drop_duplicates("street")
    return [{"lon": p.x, "lat": p.y} for p in micro.geometry.representative_point()]


def _event(point, **overrides) -> dict:
    return {"category": "01001", "description": "楼下暴露垃圾 rubbish by the gate", **point,
            **overrides}


def _count(rdb) -> tuple[int, int]:
    """Stored events and stream entries: what any write would change."""
    return rdb.zcard("idx:all"), rdb.xlen("changes")


def _problem(resp, status: int, field: str) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["field"] == field, body
    return body


# --- create and read ------------------------------------------------------------------------

def test_create_then_retry_with_the_same_idempotency_key(api, rdb, points):
    key = str(uuid.uuid4())
    before = _count(rdb)
    first = api.post("/api/v1/events", json=_event(points[0]), headers={"Idempotency-Key": key})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["outcome"] == "created"
    again = api.post("/api/v1/events", json=_event(points[0]), headers={"Idempotency-Key": key})
    assert again.status_code == 200
    assert again.get_json() == {"id": first.get_json()["id"], "outcome": "repeat"}
    assert _count(rdb) == (before[0] + 1, before[1] + 1)
    other = api.post("/api/v1/events", json=_event(points[0]))
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_idempotency_keys_belong_to_their_caller(api, points):
    key = str(uuid.uuid4())
    mine = api.post("/api/v1/events", json=_event(points[0]),
                    headers={"Idempotency-Key": key})
    theirs = api.post("/api/v1/events", json=_event(points[0]),
                      headers={"Idempotency-Key": key}, role=Role.WORKER)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


def test_read_one_event_with_its_timeline(api, clock, points):
    created = api.post("/api/v1/events", json=_event(points[1], address="犀浦街道 1 号"),
                       role=Role.WORKER).get_json()
    clock.advance(60)
    api.post(f"/api/v1/events/{created['id']}/transitions", json={"status": "registered"})
    resp = api.get(f"/api/v1/events/{created['id']}", role=Role.LEADER)
    assert resp.status_code == 200
    view = resp.get_json()
    assert view["id"] == created["id"] and view["status"] == "registered"
    assert view["source"] == "worker" and view["location"]["address"] == "犀浦街道 1 号"
    assert view["category"]["code"] == "01001" and view["category"]["name"]
    assert [(e["kind"], e["actor"], e["role"], e.get("before"), e["after"])
            for e in view["timeline"]] == [
        ("event.created", "api-worker", "worker", None, "reported"),
        ("event.transition", "api-operator", "operator", "reported", "registered")]
    assert view["timeline"][1]["at"] == clock.now()


def test_an_unknown_event_is_404_naming_the_id(api):
    _problem(api.get("/api/v1/events/20990101-999999"), 404, "id")
    _problem(api.post("/api/v1/events/20990101-999999/transitions",
                      json={"status": "registered"}), 404, "id")


def test_the_source_and_first_status_follow_the_caller(api, points):
    for role, source, status in [(Role.OPERATOR, "operator", "registered"),
                                 (Role.WORKER, "worker", "reported"),
                                 (Role.INTEGRATION, "api", "reported")]:
        event_id = api.post("/api/v1/events", json=_event(points[2]), role=role).get_json()["id"]
        view = api.get(f"/api/v1/events/{event_id}").get_json()
        assert (view["source"], view["status"]) == (source, status), role


def test_text_is_stored_and_returned_verbatim_as_json(api, points):
    text = '<script>alert("x")</script> & <b>加粗</b> \' "'
    event_id = api.post("/api/v1/events", json=_event(points[3], description=text,
                                                      address="<img src=x onerror=alert(1)>")
                        ).get_json()["id"]
    resp = api.get(f"/api/v1/events/{event_id}")
    assert resp.mimetype == "application/json"
    body = json.loads(resp.get_data(as_text=True))
    assert body["description"] == text
    assert body["location"]["address"] == "<img src=x onerror=alert(1)>"
    listed = api.get("/api/v1/events", query_string={"category": "01001", "limit": 1000,
                                                     "since": body["created_at"],
                                                     "until": body["created_at"]})
    assert listed.mimetype == "application/json"
    assert text in [e["description"] for e in listed.get_json()["events"]]


# --- every kind of bad report -----------------------------------------------------------------

@pytest.mark.parametrize("change, field, words", [
    ({"category": "77777"}, "category", "unknown category"),
    ({"category": "1"}, "category", ""),
    ({"description": "x" * 2001}, "description", "too long"),
    ({"description": ""}, "description", ""),
    ({"lon": "abc"}, "lon", ""),
    ({"lat": [30.8]}, "lat", ""),
    ({"lat": 95}, "lat", ""),
    ({"severity": "whenever"}, "severity", ""),
    ({"reporter_phone": "call me"}, "reporter_phone", "phone"),
    ({"colour": "red"}, "colour", "not a known field"),
])
def test_a_bad_report_is_422_naming_the_field(api, rdb, points, change, field, words):
    before = _count(rdb)
    body = _problem(api.post("/api/v1/events", json=_event(points[0], **change)), 422, field)
    assert words in body["message"]
    assert body["problems"][0]["field"] == field
    assert _count(rdb) == before


def test_a_missing_field_is_422_naming_it(api, points):
    report = _event(points[0])
    del report["category"]
    _problem(api.post("/api/v1/events", json=report), 422, "category")


def test_a_report_outside_the_district_is_refused_not_snapped(api, rdb):
    before = _count(rdb)
    body = _problem(api.post("/api/v1/events", json=_event(OUTSIDE)), 422, "lon,lat")
    assert "outside" in body["message"]
    assert _count(rdb) == before


@pytest.mark.parametrize("kwargs", [
    {"data": "{not json", "content_type": "application/json"},
    {"data": "category=01001", "content_type": "application/x-www-form-urlencoded"},
    {"data": json.dumps(_event(OUTSIDE)), "content_type": "text/plain"},
    {},
])
def test_a_body_that_is_not_json_is_400(api, kwargs):
    _problem(api.post("/api/v1/events", **kwargs), 400, "body")


def test_a_json_body_that_is_not_an_object_is_400(api):
    _problem(api.post("/api/v1/events", json=[_event(OUTSIDE)]), 400, "body")


@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/events/batch"])
def test_a_body_over_the_size_limit_is_413_json_naming_body(api, rdb, url):
    before = _count(rdb)
    big = json.dumps(_event(OUTSIDE, description="x" * MAX_BODY_BYTES))
    body = _problem(api.post(url, data=big, content_type="application/json"), 413, "body")
    assert f"{MAX_BODY_BYTES:,}" in body["message"]
    assert _count(rdb) == before


# --- who may call -----------------------------------------------------------------------------

@pytest.mark.parametrize("method, url", [("get", "/api/v1/events"),
                                         ("post", "/api/v1/events"),
                                         ("post", "/api/v1/events/batch"),
                                         ("get", "/api/v1/events/20990101-000001")])
def test_no_token_or_a_bad_token_is_401(app, method, url):
    client = app.test_client()
    call = getattr(client, method)
    _problem(call(url, json={}), 401, "Authorization")
    for header in ("Bearer gd_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz"):
        resp = call(url, json={}, headers={"Authorization": header})
        assert resp.status_code == 401, header
        assert resp.get_json()["field"] == "Authorization"


def test_a_revoked_token_is_401(api, runtime):
    token = runtime.auth.create_token(name="api-revoked", role=Role.OPERATOR)
    runtime.store.auth.revoke_token(token_digest(token))
    _problem(api.get("/api/v1/events?limit=1", role=None,
                     headers={"Authorization": f"Bearer {token}"}), 401, "Authorization")


def test_a_leader_reads_but_may_not_report_or_move(api, rdb, points):
    before = _count(rdb)
    body = _problem(api.post("/api/v1/events", json=_event(points[0]), role=Role.LEADER),
                    403, "role")
    assert "leader" in body["message"]
    _problem(api.post("/api/v1/events/batch", json={"events": [_event(points[0])]},
                      role=Role.LEADER), 403, "role")
    assert _count(rdb) == before
    assert api.get("/api/v1/events?limit=1", role=Role.LEADER).status_code == 200
    event_id = api.post("/api/v1/events", json=_event(points[0])).get_json()["id"]
    _problem(api.post(f"/api/v1/events/{event_id}/transitions", json={"status": "dispatched"},
                      role=Role.LEADER), 403, "role")


# --- batches ----------------------------------------------------------------------------------

def test_a_full_batch_is_201_with_every_id(api, rdb, points):
    before = _count(rdb)
    items = [_event(points[i % len(points)], description=f"第 {i} 条") for i in range(MAX_BATCH)]
    resp = api.post("/api/v1/events/batch", json={"events": items}, role=Role.INTEGRATION)
    assert resp.status_code == 201, resp.get_json()
    out = resp.get_json()["events"]
    assert len(out) == MAX_BATCH and len({e["id"] for e in out}) == MAX_BATCH
    assert {e["outcome"] for e in out} == {"created"}
    assert _count(rdb)[0] == before[0] + MAX_BATCH
    last = api.get(f"/api/v1/events/{out[-1]['id']}").get_json()
    assert last["description"] == f"第 {MAX_BATCH - 1} 条" and last["source"] == "api"


def test_a_batch_may_be_a_bare_list_with_per_item_idempotency_keys(api, points):
    key = str(uuid.uuid4())
    items = [_event(points[0], idempotency_key=key), _event(points[1])]
    first = api.post("/api/v1/events/batch", json=items)
    assert first.status_code == 201
    again = api.post("/api/v1/events/batch",
                     json=[_event(points[0], idempotency_key=key)]).get_json()["events"]
    assert again == [{"id": first.get_json()["events"][0]["id"], "outcome": "repeat"}]


def test_a_batch_over_the_limit_is_413_and_stores_nothing(api, rdb, points):
    before = _count(rdb)
    items = [_event(points[0])] * (MAX_BATCH + 1)
    body = _problem(api.post("/api/v1/events/batch", json={"events": items}), 413, "events")
    assert str(MAX_BATCH) in body["message"]
    assert _count(rdb) == before


@pytest.mark.parametrize("bad, field", [
    ({"lon": "abc"}, "lon"),
    ({"category": "77777"}, "category"),
    ({"description": "x" * 2001}, "description"),
    ({"colour": "red"}, "colour"),
    (OUTSIDE, "lon,lat"),
])
def test_one_bad_item_among_many_is_422_naming_it_and_nothing_is_stored(
        api, rdb, points, bad, field):
    items = [_event(points[i % len(points)]) for i in range(50)]
    items[37] = {**items[37], **bad}
    before = _count(rdb)
    body = _problem(api.post("/api/v1/events/batch", json={"events": items}), 422, field)
    assert [(p["index"], p["field"]) for p in body["problems"]] == [(37, field)]
    assert _count(rdb) == before


def test_several_bad_items_are_all_named(api, rdb, points):
    items = [_event(points[0]) for _ in range(10)]
    items[2] = "not an object"
    items[5] = {**items[5], "lat": [1]}
    before = _count(rdb)
    resp = api.post("/api/v1/events/batch", json={"events": items})
    assert resp.status_code in (400, 422)
    assert [(p["index"], p["field"]) for p in resp.get_json()["problems"]] == [
        (2, "body"), (5, "lat")]
    assert _count(rdb) == before


@pytest.mark.parametrize("payload", [{"events": []}, {"events": "all"}, {}, []])
def test_a_batch_without_a_list_of_events_is_400(api, payload):
    _problem(api.post("/api/v1/events/batch", json=payload), 400, "events")


# --- moving an event --------------------------------------------------------------------------

def _registered(api, point) -> str:
    return api.post("/api/v1/events", json=_event(point)).get_json()["id"]


def test_a_legal_move_is_200_with_the_new_status(api, rdb, clock, points):
    event_id = _registered(api, points[4])
    clock.advance(30)
    resp = api.post(f"/api/v1/events/{event_id}/transitions",
                    json={"status": "dispatched", "assignee": "api-worker", "ignored": "x"})
    assert resp.status_code == 200
    view = resp.get_json()
    assert view["status"] == "dispatched" and view["rev"] == 2
    assert view["entered_at"] == clock.now()
    assert view["due_at"] == clock.now() + 2 * HOUR
    stored = api.get(f"/api/v1/events/{event_id}").get_json()["timeline"]
    assert stored[-1]["after"] == "dispatched"
    fields = rdb.hgetall(f"ev:{event_id}")
    assert fields["assignee"] == "api-worker" and "ignored" not in fields
    signed = api.post(f"/api/v1/events/{event_id}/transitions", json={"status": "signed"},
                      role=Role.WORKER)
    assert signed.status_code == 200 and signed.get_json()["status"] == "signed"


def test_an_illegal_move_is_409_and_changes_nothing(api, points):
    event_id = _registered(api, points[4])
    body = _problem(api.post(f"/api/v1/events/{event_id}/transitions",
                             json={"status": "closed"}), 409, "status")
    assert "dispatched" in body["message"]  # says where it could go
    view = api.get(f"/api/v1/events/{event_id}").get_json()
    assert view["status"] == "registered" and view["rev"] == 1 and len(view["timeline"]) == 1


def test_a_worker_cancelling_is_403(api, points):
    event_id = _registered(api, points[4])
    _problem(api.post(f"/api/v1/events/{event_id}/transitions",
                      json={"status": "cancelled", "reason": "duplicate"}, role=Role.WORKER),
             403, "role")
    assert api.get(f"/api/v1/events/{event_id}").get_json()["status"] == "registered"


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_move_that_needs_a_reason_without_one_is_422(api, points, reason):
    event_id = _registered(api, points[4])
    payload = {"status": "cancelled"} | ({} if reason is None else {"reason": reason})
    _problem(api.post(f"/api/v1/events/{event_id}/transitions", json=payload), 422, "reason")
    ok = api.post(f"/api/v1/events/{event_id}/transitions",
                  json={"status": "cancelled", "reason": "重复上报"})
    assert ok.status_code == 200 and ok.get_json()["reason"] == "重复上报"


@pytest.mark.parametrize("payload, status", [({}, 400), ({"reason": "x"}, 400),
                                             ({"status": "done"}, 422),
                                             ({"status": None}, 422)])
def test_a_move_without_a_valid_status_names_the_field(api, points, payload, status):
    event_id = _registered(api, points[4])
    _problem(api.post(f"/api/v1/events/{event_id}/transitions", json=payload), status,
             "status")


# --- listing with filters ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def listed(api, clock, points):
    """Four events a minute apart, alone in their window; the second is moved on."""
    clock.t = START + 30 * 86400
    t0 = clock.now()
    specs = [(points[0], "01001", Role.OPERATOR), (points[1], "06002", Role.WORKER),
             (points[2], "01001", Role.WORKER), (points[0], "15002", Role.OPERATOR)]
    ids = []
    for point, category, role in specs:
        resp = api.post("/api/v1/events", json=_event(point, category=category), role=role)
        ids.append(resp.get_json()["id"])
        clock.advance(60)
    api.post(f"/api/v1/events/{ids[1]}/transitions", json={"status": "registered"})
    views = [api.get(f"/api/v1/events/{i}").get_json() for i in ids]
    return {"t0": t0, "t1": t0 + 3 * 60, "ids": ids, "views": views}


def _ids(api, **query) -> list[str]:
    resp = api.get("/api/v1/events", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return [e["id"] for e in resp.get_json()["events"]]


def _window(listed) -> dict:
    return {"since": listed["t0"], "until": listed["t1"]}


def test_list_is_newest_first_within_a_window(api, listed):
    assert _ids(api, **_window(listed)) == listed["ids"][::-1]
    assert _ids(api, since=listed["t0"] + 60, until=listed["t0"] + 120) == listed["ids"][2:0:-1]


def test_list_by_status(api, listed):
    ids = listed["ids"]
    assert _ids(api, status="registered", **_window(listed)) == [ids[3], ids[1], ids[0]]
    assert _ids(api, status="reported", **_window(listed)) == [ids[2]]
    everywhere = api.get("/api/v1/events", query_string={"status": "reported", "limit": 50})
    assert {e["status"] for e in everywhere.get_json()["events"]} == {"reported"}


def test_list_by_category(api, listed):
    ids = listed["ids"]
    assert _ids(api, category="01001", **_window(listed)) == [ids[2], ids[0]]
    assert _ids(api, category="06002", **_window(listed)) == [ids[1]]
    assert _ids(api, category="04001", **_window(listed)) == []


@pytest.mark.parametrize("tier", ["micro", "general", "total"])
def test_list_by_grid_at_each_tier(api, listed, tier):
    ids, views = listed["ids"], listed["views"]
    assert _ids(api, grid=views[0]["grid"][tier], **_window(listed)) == [ids[3], ids[0]]
    assert _ids(api, grid=views[1]["grid"][tier], **_window(listed)) == [ids[1]]
    alone = api.get("/api/v1/events", query_string={"grid": views[1]["grid"][tier]})
    assert all(e["grid"][tier] == views[1]["grid"][tier] for e in alone.get_json()["events"])


def test_list_by_street(api, listed):
    ids, views = listed["ids"], listed["views"]
    assert len({v["grid"]["street"] for v in views[:3]}) == 3
    assert _ids(api, street=views[2]["grid"]["street"], **_window(listed)) == [ids[2]]
    assert _ids(api, street=views[0]["grid"]["street"], status="registered",
                **_window(listed)) == [ids[3], ids[0]]


def test_since_and_until_take_epoch_and_iso(api, listed):
    ids, t0 = listed["ids"], listed["t0"]
    utc = datetime.fromtimestamp(t0 + 60, UTC)
    cst = utc.astimezone(timezone(timedelta(hours=8)))
    for since in (t0 + 60, f"{t0 + 60:.3f}", utc.isoformat(), cst.isoformat(),
                  utc.strftime("%Y-%m-%dT%H:%M:%SZ")):
        assert _ids(api, since=since, until=t0 + 120) == [ids[2], ids[1]], since
    until = datetime.fromtimestamp(t0 + 60, UTC).isoformat()
    assert _ids(api, since=t0, until=until) == [ids[1], ids[0]]


def test_an_iso_time_without_an_offset_is_beijing_time(api, listed):
    ids, t0 = listed["ids"], listed["t0"]
    naive = datetime.fromtimestamp(t0 + 120, timezone(timedelta(hours=8))).replace(tzinfo=None)
    assert _ids(api, since=naive.isoformat(), until=t0 + 180) == [ids[3], ids[2]]


def test_list_limit_and_offset(api, listed):
    ids = listed["ids"][::-1]
    assert _ids(api, limit=2, **_window(listed)) == ids[:2]
    assert _ids(api, limit=2, offset=1, **_window(listed)) == ids[1:3]
    assert _ids(api, offset=3, **_window(listed)) == ids[3:]
    assert _ids(api, offset=10, **_window(listed)) == []
    body = api.get("/api/v1/events", query_string={"limit": 2, "offset": 1}).get_json()
    assert (body["limit"], body["offset"]) == (2, 1) and len(body["events"]) <= 2


def test_list_overdue(api, clock, points):
    clock.t = START + 60 * 86400
    t0 = clock.now()
    late = api.post("/api/v1/events", json=_event(points[3]), role=Role.WORKER).get_json()["id"]
    clock.advance(30 * 60)
    fresh = api.post("/api/v1/events", json=_event(points[3]), role=Role.WORKER).get_json()["id"]
    clock.advance(30 * 60 + 1)  # the first is a second past its hour, the second is not
    window = {"since": t0, "until": clock.now()}
    assert _ids(api, overdue="true", **window) == [late]
    assert _ids(api, overdue="false", **window) == [fresh]
    assert _ids(api, **window) == [fresh, late]
    assert api.get(f"/api/v1/events/{late}").get_json()["overdue"] is True


@pytest.mark.parametrize("query, field", [
    ("status=done", "status"),
    ("overdue=yes", "overdue"),
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=ten", "limit"),
    ("offset=-1", "offset"),
    ("offset=1.5", "offset"),
    ("since=yesterday", "since"),
    ("until=2027-13-45", "until"),
    ("since=nan", "since"),
    ("until=inf", "until"),
    ("category=77777", "category"),
    ("category=01", "category"),
    ("grid=510117999999", "grid"),
    ("street=510117999", "street"),
])
def test_a_bad_filter_is_400_naming_the_field(api, query, field):
    body = _problem(api.get(f"/api/v1/events?{query}"), 400, field)
    assert field in body["message"]
