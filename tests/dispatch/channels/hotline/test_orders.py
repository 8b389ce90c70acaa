"""12345 work-order import: the library, the CLI and the HTTP endpoint, on a real Redis."""

from __future__ import annotations

import csv
import io
import json
import time
import uuid

import prcoords
import pytest
import redis
from click.testing import CliRunner

from dashboard.cli.channels import import_12345
from dispatch.access.roles import Actor, Role
from dispatch.channels.hotline.orders import HotlineImportError, import_orders
from dispatch.events.service import EventFilter
from dispatch.privacy.disclosure import Disclosure
from dispatch.store.hotline import HotlineStore
from geo.crs import CoordSystem
from tests.support import running_app

HEADER = ["工单编号", "受理时间", "诉求类别", "诉求地址", "经度", "纬度", "诉求内容", "来电号码",
          "签收时间", "答复内容", "回访结果", "满意度"]
LON, LAT = 103.893, 30.806
CLERK = Actor("clerk", Role.OPERATOR)


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="hotline",
                     roles=(Role.OPERATOR, Role.INTEGRATION, Role.LEADER)) as env:
        yield env


@pytest.fixture
def runtime(env):
    return env[1]


@pytest.fixture
def prefix() -> str:
    return f"T{uuid.uuid4().hex[:8]}-"


def _order(no: str, **over) -> dict:
    row = {"工单编号": no, "受理时间": "2026-05-01 09:30:00", "诉求类别": "城乡建设/市政设施",
           "诉求地址": "郫筒街道望丛中路1号", "经度": str(LON), "纬度": str(LAT),
           "诉求内容": "小区门口路灯不亮，夜间出行不便", "来电号码": "13812345678",
           "签收时间": "2026/5/1 10:05", "答复内容": "已安排维修", "回访结果": "已修复",
           "满意度": "满意"}
    return row | over


def _csv(rows: list[dict], header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _import(runtime, data: bytes, **kwargs):
    return import_orders(data, intake=runtime.intake, locator=runtime.locator, actor=CLERK,
                         orders=HotlineStore.of(runtime.store), **kwargs)


def _stored(runtime, orders) -> dict[str, dict]:
    """The events of these orders; fails if any order was stored twice."""
    wanted = set(orders)
    found = runtime.events.list(EventFilter(since=time.time() - 3600, limit=100_000),
                                disclosure=Disclosure.MASKED)
    mine = [e for e in found if e["external_id"] in wanted]
    by_order = {e["external_id"]: e for e in mine}
    assert len(by_order) == len(mine), "an order was stored twice"
    return by_order


def _problems(exc: pytest.ExceptionInfo) -> list[tuple[int, str]]:
    return [(p.line, p.field) for p in exc.value.problems]


# --- the library -------------------------------------------------------------------------

def test_utf8_csv_is_imported_and_a_second_import_stores_nothing(runtime, prefix):
    orders = [f"{prefix}{i}" for i in range(3)]
    data = _csv([_order(o) for o in orders]).encode("utf-8")
    first = _import(runtime, data)
    assert first.as_dict() == {"created": 3, "repeats": 0, "rows": 3, "encoding": "utf-8",
                               "format": "csv"}
    again = _import(runtime, data)
    assert (again.created, again.repeats) == (0, 3)
    stored = _stored(runtime, orders)
    assert sorted(stored) == orders
    event = stored[orders[0]]
    assert event["source"] == "12345" and event["status"] == "reported"
    assert event["category"]["code"] == "14001" and event["severity"] == "routine"
    assert event["reporter"]["phone"] == "138****5678"
    assert event["occurred_at"] == "2026-05-01T09:30:00+08:00"
    assert event["extra"]["hotline"] == {
        "order_no": orders[0], "received_at": "2026-05-01T09:30:00+08:00",
        "category_text": "城乡建设/市政设施", "signed_at": "2026-05-01T10:05:00+08:00",
        "reply": "已安排维修", "callback": "已修复", "satisfaction": "satisfied"}


def test_a_reimport_after_the_idempotency_keys_expired_stores_nothing(runtime, prefix,
                                                                     redis_server):
    orders = [f"{prefix}{i}" for i in range(2)]
    data = _csv([_order(o) for o in orders]).encode("utf-8")
    assert _import(runtime, data).created == 2
    client = redis.Redis.from_url(redis_server.url)
    assert client.delete(*[f"idem:12345:{o}" for o in orders]) == 2  # as a day later
    again = _import(runtime, data)
    assert (again.created, again.repeats) == (0, 2)
    assert len(_stored(runtime, orders)) == 2


def test_gbk_csv_is_detected(runtime, prefix):
    data = _csv([_order(f"{prefix}gbk", 诉求内容="噪声扰民，深夜施工", 满意度="不满意")])
    result = _import(runtime, data.encode("gbk"))
    assert result.encoding == "gb18030" and result.created == 1
    event = _stored(runtime, [f"{prefix}gbk"])[f"{prefix}gbk"]
    assert event["description"] == "噪声扰民，深夜施工"
    assert event["extra"]["hotline"]["satisfaction"] == "dissatisfied"


def test_jsonl_with_a_known_code_and_english_keys(runtime, prefix):
    lines = [json.dumps({"order_no": f"{prefix}j1", "received_at": "2026-05-02T08:00:00+08:00",
                         "category": "06001", "lon": LON, "lat": LAT,
                         "description": "井盖缺失", "satisfaction": "基本满意"},
                        ensure_ascii=False),
             "",
             json.dumps({"工单编号": f"{prefix}j2", "受理时间": "2026-05-02 08:10",
                         "经度": LON, "纬度": LAT, "诉求内容": "求助"}, ensure_ascii=False)]
    result = _import(runtime, "\n".join(lines).encode(), filename="orders.jsonl")
    assert result.format == "jsonl" and result.created == 2
    stored = _stored(runtime, [f"{prefix}j1", f"{prefix}j2"])
    assert stored[f"{prefix}j1"]["category"]["code"] == "06001"
    assert stored[f"{prefix}j1"]["severity"] == "urgent"
    assert "category_text" not in stored[f"{prefix}j1"]["extra"]["hotline"]
    assert stored[f"{prefix}j1"]["extra"]["hotline"]["satisfaction"] == "fairly_satisfied"
    assert stored[f"{prefix}j2"]["category"]["code"] == "14001"


def test_an_invalid_file_stores_nothing_and_names_every_bad_row(runtime, prefix):
    rows = [
        _order(f"{prefix}ok"),                                       # line 2
        _order(f"{prefix}a", 纬度=""),                                # line 3
        _order(f"{prefix}b", 经度="103.5", 纬度="30.8"),               # line 4
        _order(f"{prefix}c", 满意度="还行", 受理时间="昨天"),           # line 5
        _order(f"{prefix}ok"),                                       # line 6
        _order(f"{prefix}d", 来电号码="打不通"),                        # line 7
        _order(f"{prefix}e", 经度="东经"),                             # line 8
    ]
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, _csv(rows).encode())
    assert _problems(exc) == [(3, "纬度"), (4, "经度,纬度"), (5, "受理时间"), (5, "满意度"),
                              (6, "工单编号"), (7, "来电号码"), (8, "经度")]
    assert "line 6: 工单编号: order" in str(exc.value) and "line 2" in str(exc.value)
    assert _stored(runtime, [f"{prefix}ok", f"{prefix}d"]) == {}


def test_outside_rows_are_named_once_fields_are_valid(runtime, prefix):
    rows = [_order(f"{prefix}in"), _order(f"{prefix}out", 经度="103.5", 纬度="30.8")]
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, _csv(rows).encode())
    assert _problems(exc) == [(3, "经度,纬度")]
    assert "outside" in exc.value.problems[0].message
    assert _stored(runtime, [f"{prefix}in"]) == {}


def test_line_numbers_count_line_breaks_inside_cells(runtime, prefix):
    rows = [_order(f"{prefix}m", 诉求内容="第一行\n第二行\n第三行"), _order(f"{prefix}n", 纬度="x")]
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, _csv(rows).encode())
    assert _problems(exc) == [(5, "纬度")]


def test_missing_required_column_is_named_on_the_header_line(runtime):
    header = [h for h in HEADER if h != "纬度"]
    data = _csv([{k: v for k, v in _order("x").items() if k != "纬度"}], header=header)
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, data.encode())
    assert [(p.line, p.field, p.message) for p in exc.value.problems] == [
        (1, "header", "missing column 纬度")]


@pytest.mark.parametrize("data, field", [
    (b"", "file"), (b"\n\n", "file"), (b"\xff\xfe\xff\xff", "file"),
])
def test_empty_or_binary_files_are_refused(runtime, data, field):
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, data)
    assert _problems(exc) == [(1, field)]


def test_broken_json_lines_are_named(runtime, prefix):
    data = "\n".join([json.dumps({"order_no": f"{prefix}1"}), "{not json", "[1, 2]"])
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, data.encode(), fmt="jsonl")
    assert _problems(exc) == [(2, "json"), (3, "json")]


def test_more_than_a_thousand_rows_go_in_batches(runtime, prefix):
    orders = [f"{prefix}{i:05d}" for i in range(1201)]
    data = _csv([_order(o) for o in orders]).encode()
    assert _import(runtime, data).created == 1201
    assert _import(runtime, data).repeats == 1201


def test_gcj02_coordinates_are_converted(runtime, prefix):
    gcj = prcoords.wgs_gcj(prcoords.Coords(LAT, LON), False)
    row = _order(f"{prefix}gcj", 经度=repr(gcj.lon), 纬度=repr(gcj.lat))
    _import(runtime, _csv([row]).encode(), coords=CoordSystem.GCJ02)
    event = _stored(runtime, [f"{prefix}gcj"])[f"{prefix}gcj"]
    assert event["location"]["lon"] == pytest.approx(LON, abs=1e-6)
    assert event["location"]["lat"] == pytest.approx(LAT, abs=1e-6)


def test_a_long_complaint_is_clipped_and_kept_whole_in_extra(runtime, prefix):
    text = "反映" * 1500
    _import(runtime, _csv([_order(f"{prefix}long", 诉求内容=text)]).encode())
    event = _stored(runtime, [f"{prefix}long"])[f"{prefix}long"]
    assert len(event["description"]) == 2000 and event["description"].endswith("…")
    assert event["extra"]["hotline"]["content"] == text


# --- the command line ------------------------------------------------------------------------

def test_cli_imports_then_finds_repeats(redis_server, tmp_path, prefix):
    path = tmp_path / "orders.csv"
    path.write_bytes(_csv([_order(f"{prefix}cli1"), _order(f"{prefix}cli2")]).encode("gbk"))
    runner = CliRunner()
    env = {"REDIS_URL": redis_server.url}
    first = runner.invoke(import_12345, [str(path)], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {"created": 2, "repeats": 0, "rows": 2,
                                            "encoding": "gb18030", "format": "csv"}
    again = runner.invoke(import_12345, [str(path), "--format", "csv"], env=env)
    assert json.loads(again.output)["repeats"] == 2


def test_cli_exits_1_with_one_line_per_problem(redis_server, tmp_path, prefix):
    path = tmp_path / "bad.txt"
    rows = [_order(f"{prefix}x1", 纬度=""), _order(f"{prefix}x2", 满意度="一般")]
    path.write_text(_csv(rows), encoding="utf-8")
    result = CliRunner().invoke(import_12345, [str(path)], env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "line 2: 纬度: is required",
        "line 3: 满意度: '一般' is not 满意, 基本满意 or 不满意"]
    assert "nothing imported" in result.stderr


def test_cli_without_redis_url_uses_the_data_folders_redis(redis_server, tmp_path, prefix,
                                                           cache_dir):
    path = tmp_path / "orders.csv"
    path.write_text(_csv([_order(f"{prefix}folder")]), encoding="utf-8")
    env = {"REDIS_URL": None, "GRID_DISPATCH_REDIS_URL": None,
           "GRID_DISPATCH_DATA_DIR": str(tmp_path / "data"),
           "GRID_DISPATCH_CACHE_DIR": str(cache_dir)}
    first = CliRunner().invoke(import_12345, [str(path)], env=env)
    assert first.exit_code == 0, first.output
    assert json.loads(first.output)["created"] == 1
    again = CliRunner().invoke(import_12345, [str(path)], env=env)  # kept in its AOF
    assert json.loads(again.output)["repeats"] == 1


def test_field_errors_and_outside_rows_are_named_in_one_run(runtime, prefix):
    rows = [_order(f"{prefix}o1", 经度="103.5", 纬度="30.8"), _order(f"{prefix}o2", 满意度="一般"),
            _order(f"{prefix}o3"), _order(f"{prefix}o4", 经度="104.5", 纬度="30.8")]
    with pytest.raises(HotlineImportError) as exc:
        _import(runtime, _csv(rows).encode())
    assert _problems(exc) == [(2, "经度,纬度"), (3, "满意度"), (5, "经度,纬度")]
    assert _stored(runtime, [f"{prefix}o3"]) == {}


# --- HTTP ------------------------------------------------------------------------------------

def _post(env, body: bytes, content_type="text/csv", role=Role.OPERATOR, query=""):
    client, _, tokens = env
    return client.post(f"/api/v1/hotline/import{query}", data=body,
                       headers={"Authorization": f"Bearer {tokens[role]}",
                                "Content-Type": content_type})


def test_http_import_csv_then_repeat(env, prefix):
    body = _csv([_order(f"{prefix}h1"), _order(f"{prefix}h2")]).encode("gbk")
    first = _post(env, body, content_type="text/csv; charset=utf-8")
    assert first.status_code == 201
    assert first.get_json() == {"created": 2, "repeats": 0, "rows": 2,
                                     "encoding": "gb18030", "format": "csv"}
    again = _post(env, body, role=Role.INTEGRATION)
    assert again.status_code == 200 and again.get_json()["repeats"] == 2


def test_http_import_ndjson(env, runtime, prefix):
    line = json.dumps({"order_no": f"{prefix}nd", "received_at": "2026-05-03 12:00",
                       "lon": LON, "lat": LAT, "description": "占道经营"}, ensure_ascii=False)
    resp = _post(env, line.encode(), content_type="application/x-ndjson")
    assert resp.status_code == 201 and resp.get_json()["format"] == "jsonl"
    assert _stored(runtime, [f"{prefix}nd"])[f"{prefix}nd"]["source"] == "12345"


def test_http_import_problems_are_422_with_lines(env, runtime, prefix):
    body = _csv([_order(f"{prefix}p1"), _order(f"{prefix}p2", 经度="abc")]).encode()
    resp = _post(env, body)
    assert resp.status_code == 422
    payload = resp.get_json()
    assert payload["field"] == "经度" and payload["line"] == 3
    assert payload["problems"] == [{"line": 3, "field": "经度", "message": "'abc' is not a number"}]
    assert _stored(runtime, [f"{prefix}p1"]) == {}


def test_http_import_refuses_other_types_roles_and_coords(env):
    assert _post(env, b"{}", content_type="application/json").status_code == 415
    assert _post(env, b"a,b\n", role=Role.LEADER).status_code == 403
    assert env[0].post("/api/v1/hotline/import", data=b"x",
                       content_type="text/csv").status_code == 401
    bad = _post(env, b"a,b\n", query="?coords=mars")
    assert bad.status_code == 400 and bad.get_json()["field"] == "coords"
