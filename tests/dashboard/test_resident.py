"""The residents' form: no sign-in, escaped text, one event per tap, rate limited."""

from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from geo.model import Tier


@pytest.fixture(scope="module")
def app(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")))
    server = create_app(runtime=runtime).server
    yield server
    runtime.close()


@pytest.fixture
def client(app):
    from dashboard.api.resident import limiter

    limiter.reset()
    return app.test_client()


@pytest.fixture(scope="module")
def micro(demo_grids) -> str:
    return demo_grids.tier(Tier.MICRO)["code"].iloc[100]


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def _form(client, code):
    page = client.get(f"/report?grid={code}&b=3栋")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_form_opens_without_sign_in_for_a_valid_grid(client, micro, demo_grids):
    html = _form(client, micro)
    assert demo_grids.ref(micro).name in html and "3栋" in html
    assert client.get("/report?grid=999").status_code == 400
    assert client.get("/report").status_code == 400


def test_report_is_stored_at_its_micro_grid_with_text_escaped(client, app, micro):
    html = _form(client, micro)
    text = "<script>alert(1)</script> 楼道堆物"
    resp = client.post("/report", data={"grid": micro, "b": "3栋", "token": _token(html),
                                        "category": "01001", "description": text,
                                        "phone": "13812345678"})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    event_id = re.search(r'id="event-id">([^<]+)<', body).group(1)
    view = app.extensions["grid_dispatch"].events.get(event_id)
    assert view["source"] == "resident" and view["grid"]["micro"] == micro
    assert view["description"] == text  # stored verbatim
    assert view["reporter"]["phone"] == "138****5678"
    assert "<script>" not in body


def test_double_tap_stores_one_event(client, micro):
    token = _token(_form(client, micro))
    form = {"grid": micro, "token": token, "category": "15002", "description": "噪声"}
    first = client.post("/report", data=form).get_data(as_text=True)
    second = client.post("/report", data=form).get_data(as_text=True)
    pick = re.compile(r'id="event-id">([^<]+)<')
    assert pick.search(first).group(1) == pick.search(second).group(1)


def test_errors_are_named_next_to_their_fields_and_echo_escaped(client, micro):
    resp = client.post("/report", data={"grid": micro, "token": "t", "category": "77777",
                                        "description": "", "phone": "<b>x</b>"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert html.count('class="err"') >= 3
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_rate_limit_answers_429_with_a_page(client, micro):
    form = {"grid": micro, "category": "99001", "description": "测试"}
    codes = [client.post("/report", data=form | {"token": f"rl{i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [200] * 5 and codes[-1] == 429
    assert "提交过于频繁" in client.post("/report", data=form).get_data(as_text=True)
