"""The residents' form on a real app and Redis: no sign-in, escaped text, one event per tap,
each problem beside its field, rate limited per address."""

from __future__ import annotations

import itertools
import re

import pytest
import shapely

from dashboard.api.channels.resident_limits import client_key, storage_uri
from dispatch.channels.resident.token import FormToken, FormTokenError
from dispatch.privacy.disclosure import Disclosure
from dispatch.store import StoreError
from geo.model import Tier
from tests.support import running_app

XSS = "<script>alert(1)</script>"
_addresses = (f"10.77.{i // 250}.{i % 250 + 1}" for i in itertools.count())


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="resident",
                     roles=()) as (client, runtime, _):
        yield client.application, runtime


@pytest.fixture
def client(env):
    """A client from its own address, so each test starts under the rate limit."""
    c = env[0].test_client()
    c.environ_base["REMOTE_ADDR"] = next(_addresses)
    return c


@pytest.fixture
def runtime(env):
    return env[1]


@pytest.fixture(scope="module")
def micro(demo_grids) -> str:
    return demo_grids.tier(Tier.MICRO)["code"].iloc[100]


@pytest.fixture(scope="module")
def general(demo_grids) -> str:
    return demo_grids.tier(Tier.GENERAL)["code"].iloc[3]


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def _event_id(html: str) -> str:
    return re.search(r'id="event-id">([^<]+)<', html).group(1)


def _open(client, code: str, building: str = "") -> str:
    resp = client.get("/report", query_string={"grid": code, "b": building})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_data(as_text=True)


def _post(client, code: str, **fields):
    token = fields.pop("token", None) or _token(_open(client, code))
    return client.post("/report", data={"grid": code, "token": token, **fields})


def test_form_opens_without_sign_in_with_every_choice_and_nothing_from_outside(
        client, micro, demo_grids):
    html = _open(client, micro, "3栋")
    assert demo_grids.ref(micro).name in html and "3栋" in html
    for label in ("市容环境", "设施损坏", "安全隐患", "邻里纠纷", "噪声扰民", "民生诉求", "其他"):
        assert label in html
    assert html.count('type="radio" name="category"') == 7
    assert "加密保存，显示时隐去中间四位" in html and 'maxlength="2000"' in html
    urls = re.findall(r'(?:src|href|action)="([^"]+)"', html)
    assert urls and all(u.startswith("/") for u in urls), urls
    headers = client.get(f"/report?grid={micro}").headers
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("query", ["?grid=999", "?grid=", "", "?grid=51011700100100",
                                   f"?grid={XSS}"])
def test_unknown_missing_or_total_code_gets_a_clear_400(client, query):
    resp = client.get("/report" + query)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "二维码无效" in html and "does not name a grid" in html
    assert XSS not in html


def test_post_stores_a_resident_event_at_the_micro_grid_with_the_phone_masked(
        client, runtime, micro, demo_grids):
    resp = _post(client, micro, b="3栋", category="06002", description="路灯不亮",
                 name="王阿姨", phone="13812345678")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "您的反映已受理，编号" in html
    event = runtime.events.get(_event_id(html), disclosure=Disclosure.MASKED)
    point = shapely.point_on_surface(demo_grids.geometry(micro))
    assert event["source"] == "resident" and event["status"] == "reported"
    assert event["grid"]["micro"] == micro and event["category"]["code"] == "06002"
    assert (event["location"]["lon"], event["location"]["lat"]) == (point.x, point.y)
    assert event["location"]["building"] == "3栋"
    assert event["reporter"] == {"name": "王**", "phone": "138****5678", "masked": True}
    assert event["extra"] == {"qr_grid": micro, "located_by": "grid"}
    assert "138****5678" in html and "13812345678" not in html


def test_script_is_stored_verbatim_and_only_ever_shown_escaped(client, runtime, micro):
    text = f"{XSS} 楼道堆物"
    resp = _post(client, micro, category="01001", description=text, b=XSS)
    html = resp.get_data(as_text=True)
    assert runtime.events.get(_event_id(html), disclosure=Disclosure.MASKED)["description"] == text
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt; 楼道堆物" in html
    form = _open(client, micro, XSS)
    assert XSS not in form and "&lt;script&gt;" in form
    again = _post(client, micro, category="bad", description=text, name=XSS)
    assert again.status_code == 422 and XSS not in again.get_data(as_text=True)


def test_each_problem_is_named_beside_its_field_and_the_input_kept(client, micro):
    resp = _post(client, micro, category="20001", description=" ", phone="<b>x</b>",
                 name="名" * 51)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    errors = dict(re.findall(r'id="err-(\w+)"\s+role="alert">([^<]+)<', html))
    assert set(errors) == {"category", "description", "phone", "name"}
    assert errors["category"] == "请选择问题类型" and "手机号码" in errors["phone"]
    assert "is not a phone number" in html and "at most 50 characters" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html


def test_double_submit_with_one_token_stores_one_event(client, runtime, micro):
    token = _token(_open(client, micro))
    form = {"category": "15002", "description": "夜间施工噪声", "token": token}
    first = _post(client, micro, **form).get_data(as_text=True)
    second = _post(client, micro, **form).get_data(as_text=True)
    assert _event_id(first) == _event_id(second)
    assert "已提交过" in second and "已提交过" not in first
    assert runtime.events.get(_event_id(first), disclosure=Disclosure.MASKED)["count"] == 1
    third = _post(client, micro, category="15002", description="夜间施工噪声")
    assert _event_id(third.get_data(as_text=True)) != _event_id(first)


def test_forged_or_moved_token_is_refused_and_nothing_stored(client, env, micro, demo_grids):
    other = demo_grids.tier(Tier.MICRO)["code"].iloc[101]
    moved = _token(_open(client, other))
    for token in ("made-up", moved):
        resp = _post(client, micro, token=token, category="99001", description="x")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 422 and 'id="err-form"' in html and "event-id" not in html
        assert _token(html) not in (token, moved)  # a fresh form to submit again
    tokens = FormToken(env[0].secret_key, max_age_s=-1)
    with pytest.raises(FormTokenError, match="expired") as info:
        tokens.check(tokens.issue(micro), grid=micro)
    assert info.value.reason == "expired"


def test_general_code_asks_which_building(client, runtime, general, demo_grids):
    html = _open(client, general)
    children = demo_grids.frame.query("parent_code == @general")["code"].tolist()
    assert html.count("<option value=\"5") == len(children)
    missing = _post(client, general, category="99001", description="x")
    assert missing.status_code == 422 and 'id="err-micro"' in missing.get_data(as_text=True)
    done = _post(client, general, micro=children[-1], category="99001", description="x")
    event = runtime.events.get(_event_id(done.get_data(as_text=True)), disclosure=Disclosure.MASKED)
    assert event["grid"]["micro"] == children[-1]
    assert event["extra"]["qr_grid"] == general


def test_phone_position_is_used_only_inside_the_district_and_when_precise(
        client, runtime, micro, demo_grids):
    neighbour = demo_grids.tier(Tier.MICRO)["code"].iloc[102]
    point = shapely.point_on_surface(demo_grids.geometry(neighbour))

    def stored(**where):
        resp = _post(client, micro, category="99001", description="x", **where)
        return runtime.events.get(_event_id(resp.get_data(as_text=True)),
                                  disclosure=Disclosure.MASKED)

    by_phone = stored(lon=str(point.x), lat=str(point.y), acc="12")
    assert by_phone["grid"]["micro"] == neighbour
    assert by_phone["extra"] == {"qr_grid": micro, "located_by": "phone", "accuracy_m": 12}
    for rough in ({"lon": str(point.x), "lat": str(point.y), "acc": "900"},
                  {"lon": "0", "lat": "0"}, {"lon": "nan", "lat": "1"}):
        assert stored(**rough)["grid"]["micro"] == micro


def test_rate_limit_answers_429_with_a_page_for_that_address_only(client, env, micro):
    token = _token(_open(client, micro))
    form = {"grid": micro, "token": token, "category": "99001", "description": "测试"}
    codes = [client.post("/report", data=form).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    refused = client.post("/report", data=form)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "提交太频繁了" in refused.get_data(as_text=True)
    assert client.get(f"/report?grid={micro}").status_code == 200  # reading is not limited
    other = env[0].test_client()
    other.environ_base["REMOTE_ADDR"] = next(_addresses)
    assert other.post("/report", data=form).status_code == 200


def test_limit_counts_ipv6_clients_per_64(env):
    app = env[0]
    for address, key in (("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
                         ("::ffff:10.1.2.3", "10.1.2.3"), ("10.1.2.3", "10.1.2.3")):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            assert client_key() == key


def test_storage_down_gives_a_try_again_page_not_json(client, runtime, micro, monkeypatch):
    class Down:
        def submit(self, report, *, actor):
            raise StoreError("connection refused")

    token = _token(_open(client, micro))
    monkeypatch.setattr(runtime, "intake", Down())
    resp = _post(client, micro, token=token, category="99001", description="x")
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    assert "暂时无法提交" in resp.get_data(as_text=True)


def test_limit_storage_names_a_socket_the_way_limits_expects():
    assert storage_uri("unix:///run/redis.sock") == "redis+unix:///run/redis.sock"
    assert storage_uri("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
