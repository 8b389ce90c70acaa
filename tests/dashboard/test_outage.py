"""A Redis outage on a real app: redis-server killed with SIGKILL, then started again on the
same port and files. Every request made meanwhile gets a 503 that says why and when to retry
(JSON, the GeoReport array, the residents' page, or a self-refreshing page in the screen's
language), never a 500; afterwards everything answers again and nothing acknowledged is gone.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import redis
import requests
from flask import Flask
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.app import outage_cause
from dashboard.live import NAMESPACE
from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.store import Store
from dispatch.store.server import EmbeddedRedis, RedisUnavailableError, find_redis_server, free_port
from geo.model import Tier
from tests.conftest import IN_CI, OPERATOR, ServerProcess
from tests.support import running_app

USER, PASSWORD = "outage-op", "outage-password"
REPORT = {"category": "06001", "lon": 103.893, "lat": 30.806, "description": "井盖缺失"}
OPEN311 = {"service_code": "06001", "lat": "30.806", "long": "103.893",
           "description": "路灯不亮"}


@dataclass
class Env:
    app: Flask
    runtime: object
    tokens: dict
    redis: EmbeddedRedis

    def client(self, *, signed_in: bool = False):
        client = self.app.test_client()
        if signed_in:
            with client.session_transaction() as session:  # stored in Redis, before any outage
                session["_user_id"] = USER
        return client

    def bearer(self, role: Role = Role.OPERATOR) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture(scope="module")
def env(cache_dir, demo_grids, tmp_path_factory) -> Iterator[Env]:
    """An app on a Redis of its own: killing it leaves the session's Redis alone."""
    try:
        find_redis_server()
    except RedisUnavailableError as exc:
        (pytest.fail if IN_CI else pytest.skip)(str(exc))
    server = EmbeddedRedis(tmp_path_factory.mktemp("outage-redis")).start()
    try:
        with running_app(server.url, cache_dir=cache_dir, data_dir=tmp_path_factory.mktemp(
                "outage-data"), name="outage", roles=(Role.OPERATOR, Role.INTEGRATION)) as (
                client, runtime, tokens):
            runtime.auth.add_user(USER, role=Role.OPERATOR, password=PASSWORD)
            yield Env(app=client.application, runtime=runtime, tokens=tokens, redis=server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def micro(demo_grids) -> str:
    return demo_grids.tier(Tier.MICRO)["code"].iloc[100]


def kill(server: EmbeddedRedis) -> None:
    os.kill(server.pid, signal.SIGKILL)
    server.stop()  # reaps the killed child; the port and the AOF stay for the restart


def restart(env: Env) -> None:
    env.redis.start()
    deadline = time.monotonic() + 15
    while env.client().get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the app did not see Redis come back"
        time.sleep(0.1)


@contextmanager
def outage(env: Env) -> Iterator[None]:
    kill(env.redis)
    try:
        yield
    finally:
        restart(env)


def unavailable_json(resp, *, retry: str = "1") -> dict:
    """A 503 in the APIs' JSON shape, naming Redis as the cause."""
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.headers["Retry-After"] == retry
    body = resp.get_json()
    assert body["error"] == "unavailable" and body["field"] is None
    assert body["message"].startswith("data service unavailable (redis"), body
    assert body["message"].endswith("retry")
    return body


def unavailable_page(resp, *, lang: str) -> str:
    """A 503 page that says the data service is away and reloads itself."""
    text = resp.get_data(as_text=True)
    assert resp.status_code == 503, text
    assert resp.mimetype == "text/html" and resp.headers["Retry-After"] == "5"
    assert '<meta http-equiv="refresh" content="5">' in text
    assert f'<html lang="{lang}">' in text
    assert "Internal Server Error" not in text and "<script" not in text
    assert ("Data service unavailable" if lang == "en" else "数据服务不可用") in text
    return text


def _post_event(env: Env, **extra) -> str:
    resp = env.client().post("/api/v1/events", json=REPORT | extra, headers=env.bearer())
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()["id"]


def _dash_event_panel(client, event_id: str):
    """The situation page's event-panel callback, as the browser posts it."""
    payload = {
        "output": "..event-panel-body.children...event-panel.className..",
        "outputs": [{"id": "event-panel-body", "property": "children"},
                    {"id": "event-panel", "property": "className"}],
        "inputs": [{"id": "selected-event", "property": "data", "value": {"id": event_id}},
                   {"id": "lang", "property": "data", "value": "zh"},
                   {"id": "live-applied", "property": "data", "value": None}],
        "changedPropIds": ["selected-event.data"],
        "state": [],
    }
    return client.post("/_dash-update-component", json=payload)


def _resident_form(client, micro: str) -> dict:
    """The form's fields as the resident's phone would send them."""
    resp = client.get("/report", query_string={"grid": micro})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', resp.get_data(as_text=True)).group(1)
    return {"grid": micro, "token": token, "category": "99001", "description": "楼道灯坏了"}


# --- during the outage ---------------------------------------------------------------------

def test_bearer_call_whose_token_is_not_cached_is_503_json(env):
    fresh = env.runtime.auth.create_token(name="outage-fresh", role=Role.OPERATOR)
    headers = {"Authorization": f"Bearer {fresh}"}
    with outage(env):
        unavailable_json(env.client().get("/api/v1/events", headers=headers))
        unavailable_json(env.client().post("/api/v1/events", json=REPORT, headers=headers))
        unavailable_json(env.client().get("/api/v1/live/changes", headers=headers))


def test_report_with_a_cached_token_is_503_json(env):
    _post_event(env)  # the token is now in the lookup cache; storing is what fails
    with outage(env):
        unavailable_json(env.client().post("/api/v1/events", json=REPORT, headers=env.bearer()))
        unavailable_json(env.client().post("/api/v1/events/batch", json={"events": [REPORT]},
                                           headers=env.bearer()))


def test_open311_with_an_api_key_is_503_in_the_spec_format(env):
    key = env.runtime.auth.create_token(name="outage-311", role=Role.INTEGRATION)
    with outage(env):
        resp = env.client().post("/open311/v2/requests.json", data=OPEN311 | {"api_key": key})
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "1"
        body = resp.get_json()
        assert body[0]["code"] == 503
        assert body[0]["description"].startswith("service: data service unavailable (redis")
        xml = env.client().get("/open311/v2/requests.xml")
        assert xml.status_code == 503 and b"<code>503</code>" in xml.data


def test_page_reload_when_signed_in_is_a_503_page_in_the_screens_language(env):
    zh, english, asked = (env.client(signed_in=True) for _ in range(3))
    english.set_cookie("lang", "en")
    with outage(env):
        unavailable_page(zh.get("/"), lang="zh")
        text = unavailable_page(english.get("/"), lang="en")
        assert "Pidu Grid Dispatch Centre" in text
        unavailable_page(asked.get("/?lang=en"), lang="en")


def test_login_page_and_sign_in_are_503_pages(env):
    signed_in, signed_out = env.client(signed_in=True), env.client()
    token = _csrf(signed_out.get("/login"))
    with outage(env):
        unavailable_page(signed_in.get("/login"), lang="zh")
        unavailable_page(signed_out.post("/login", data={
            "username": USER, "password": PASSWORD, "csrf": token}), lang="zh")


def _csrf(resp) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', resp.get_data(as_text=True)).group(1)


def test_dash_callback_is_503_json(env):
    event_id = _post_event(env)
    client = env.client(signed_in=True)
    with outage(env):
        unavailable_json(_dash_event_panel(client, event_id))


def test_healthz_is_503_at_once(env):
    with outage(env):
        started = time.monotonic()
        resp = env.client().get("/healthz")
        assert time.monotonic() - started < 1.5
        assert resp.status_code == 503 and resp.get_json()["redis"] is False
        assert resp.headers["Retry-After"]


def test_healthz_answers_within_its_deadline_when_redis_hangs(env):
    """A stopped (not killed) Redis accepts connections and never answers."""
    env.client().get("/healthz")  # a pooled connection, so the ping does not even connect
    os.kill(env.redis.pid, signal.SIGSTOP)
    try:
        for _ in range(2):  # the second call joins the ping still in flight
            started = time.monotonic()
            resp = env.client().get("/healthz")
            assert time.monotonic() - started < 1.5
            assert resp.status_code == 503 and resp.get_json()["redis"] is False
    finally:
        os.kill(env.redis.pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while env.client().get("/healthz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_resident_form_submit_is_the_try_again_page(env, micro):
    client = env.client()
    client.environ_base["REMOTE_ADDR"] = "10.99.0.1"
    form = _resident_form(client, micro)
    operator = env.client(signed_in=True)  # its page template asks who is signed in
    operator.environ_base["REMOTE_ADDR"] = "10.99.0.3"
    with outage(env):
        resp = client.post("/report", data=form)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "5", text
        assert "暂时无法提交" in text and "not saved" in text
        assert resp.headers["Content-Security-Policy"]  # still the residents' strict page
        again = client.post("/report", data=form)  # the rate limit counts on, in memory
        assert again.status_code == 503
        assert "暂时无法提交" in operator.post("/report", data=form).get_data(as_text=True)
    assert client.post("/report", data=form).status_code == 200


def test_socket_connect_is_refused_not_crashed(env):
    socketio = env.app.extensions["socketio"]
    with outage(env):
        for auth in ({"token": env.tokens[Role.OPERATOR]}, None):
            flask_client = env.client(signed_in=auth is None)
            sock = socketio.test_client(env.app, namespace=NAMESPACE, auth=auth,
                                        flask_test_client=flask_client)
            assert not sock.is_connected(NAMESPACE)
    sock = socketio.test_client(env.app, namespace=NAMESPACE,
                                auth={"token": env.tokens[Role.OPERATOR]})
    assert sock.is_connected(NAMESPACE)
    sock.disconnect(NAMESPACE)


def test_a_loading_or_slow_redis_is_named_as_the_cause(env):
    """Redis answering LOADING while it replays its AOF, or timing out, is a 503 too."""
    cases = {redis.BusyLoadingError("Redis is loading the dataset in memory"):
             "redis is loading its data",
             redis.TimeoutError("Timeout reading from socket"): "redis timed out"}
    for exc, cause in cases.items():
        assert outage_cause(exc) == cause
        with env.app.test_request_context("/api/v1/events"):
            resp = env.app.make_response(env.app.handle_user_exception(exc))
        assert resp.status_code == 503
        assert json.loads(resp.get_data())["message"] == f"data service unavailable ({cause}), " \
                                                         "retry"
        with env.app.test_request_context("/", headers={"Accept": "text/html"}):
            page = env.app.make_response(env.app.handle_user_exception(exc))
        assert page.status_code == 503 and page.mimetype == "text/html"


# --- after the restart ---------------------------------------------------------------------

def _delta_with(sock, event_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in list(sock.queue):
            if message["name"] == "delta" and any(
                    c.get("id") == event_id for c in message["args"][0]["changes"]):
                return message["args"][0]
        time.sleep(0.05)
    raise AssertionError(f"no delta with {event_id} in {timeout} s")


def test_everything_answers_again_and_nothing_acknowledged_is_lost(env, micro):
    socketio = env.app.extensions["socketio"]
    sock = socketio.test_client(env.app, namespace=NAMESPACE,
                                auth={"token": env.tokens[Role.OPERATOR]})
    assert sock.is_connected(NAMESPACE)
    acked = [_post_event(env, description=f"断电前 {i}") for i in range(5)]
    before = _delta_with(sock, acked[-1])
    resident = env.client()
    resident.environ_base["REMOTE_ADDR"] = "10.99.0.2"
    form = _resident_form(resident, micro)
    key = env.runtime.auth.create_token(name="outage-311-after", role=Role.INTEGRATION)
    fresh = env.runtime.auth.create_token(name="outage-after", role=Role.OPERATOR)

    with outage(env):
        unavailable_json(env.client().post("/api/v1/events", json=REPORT, headers={
            "Authorization": f"Bearer {fresh}"}))
        time.sleep(1.0)  # the live feed's reader notices and waits

    after = _post_event(env, description="恢复后")
    delta = _delta_with(sock, after)
    assert delta["prev"] == before["seq"], "a delta went missing across the outage"
    sock.disconnect(NAMESPACE)

    signed_in = env.client(signed_in=True)
    assert signed_in.get("/").status_code == 200
    assert signed_in.get("/login").status_code == 200
    panel = _dash_event_panel(signed_in, acked[0])
    assert panel.status_code == 200 and acked[0] in panel.get_data(as_text=True)
    assert env.client().get("/healthz").status_code == 200
    assert env.client().get("/api/v1/events", headers={
        "Authorization": f"Bearer {fresh}"}).status_code == 200
    assert env.client().post("/open311/v2/requests.json",
                             data=OPEN311 | {"api_key": key}).status_code == 201
    assert resident.post("/report", data=form).status_code == 200
    for event_id in acked:
        resp = env.client().get(f"/api/v1/events/{event_id}", headers=env.bearer())
        assert resp.status_code == 200, f"acknowledged {event_id} is gone"


# --- an open screen, in headless Chromium ---------------------------------------------------

def _banner_shown(driver) -> bool:
    return driver.execute_script(
        "const b = document.getElementById('data-banner');"
        "return !!b && !b.classList.contains('hidden');")


def _queue_ids(driver) -> set[str]:
    return set(driver.execute_script(
        "return [...document.querySelectorAll('#event-queue .event-row')]"
        ".map(r => r.dataset.id)"))


def _map_ready(driver) -> bool:
    return driver.execute_script("return document.body.dataset.mapReady === '1' && "
                                 "!!window.gridDispatch.live.state.seq")


@pytest.fixture
def screen_server(demo_grids, tmp_path):
    """``grid-dispatch serve`` on a Redis of its own, with the browser tests' operator."""
    server = EmbeddedRedis(tmp_path / "redis").start()
    store = Store.from_url(server.url)
    auth = Auth(store.auth)
    auth.add_user(OPERATOR[0], role=Role.OPERATOR, password=OPERATOR[1])
    token = auth.create_token(name="outage-screen", role=Role.OPERATOR)
    store.close()
    app = ServerProcess(port=free_port(), redis_url=server.url, workdir=tmp_path).start()
    try:
        yield app, server, token
    finally:
        app.stop()
        server.stop()


@pytest.mark.browser
def test_open_screen_says_the_data_service_is_away_and_recovers_by_itself(browser,
                                                                          screen_server):
    app, server, token = screen_server
    browser.sign_in(app.url)
    browser.get(app.url + "/")
    WebDriverWait(browser, 60).until(_map_ready)
    assert not _banner_shown(browser)

    kill(server)
    WebDriverWait(browser, 10).until(_banner_shown)
    text = browser.execute_script("return document.getElementById('data-banner').textContent")
    assert text == "数据服务不可用，正在重试"
    server.start()
    WebDriverWait(browser, 10).until(lambda d: not _banner_shown(d))
    posted = requests.post(f"{app.url}/api/v1/events", json=REPORT, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert posted.status_code == 201, posted.text
    WebDriverWait(browser, 10).until(lambda d: posted.json()["id"] in _queue_ids(d))

    kill(server)  # a reload meanwhile gets the page that refreshes itself
    browser.refresh()
    assert "数据服务不可用" in browser.page_source
    assert "Internal Server Error" not in browser.page_source
    server.start()
    WebDriverWait(browser, 60).until(_map_ready)
    WebDriverWait(browser, 10).until(lambda d: posted.json()["id"] in _queue_ids(d))


@pytest.mark.browser
def test_a_screen_whose_socket_was_refused_opens_a_new_one(browser, screen_server):
    """The client library never retries a connect the server refused (as it refuses one
    while Redis is away); the page opens a new socket once the server is healthy."""
    app, server, token = screen_server
    browser.sign_in(app.url)
    browser.get(app.url + "/")
    WebDriverWait(browser, 60).until(_map_ready)

    with redis.Redis.from_url(server.url) as client:
        client.delete(f"user:{OPERATOR[0]}")  # its reconnect is now refused
    app.kill()
    app.start()
    WebDriverWait(browser, 60, ignored_exceptions=(requests.RequestException,)).until(
        lambda d: requests.get(f"{app.url}/healthz", timeout=5).status_code == 200)
    time.sleep(8)  # past the client's longest reconnect delay
    assert not browser.execute_script("return window.gridDispatch.live.state.connected")
    store = Store.from_url(server.url)
    Auth(store.auth).add_user(OPERATOR[0], role=Role.OPERATOR, password=OPERATOR[1])
    store.close()
    WebDriverWait(browser, 40).until(
        lambda d: d.execute_script("return window.gridDispatch.live.state.connected"))
    assert browser.execute_script("return window.gridDispatch.live.health.renewed") >= 1
    posted = requests.post(f"{app.url}/api/v1/events", json=REPORT, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    WebDriverWait(browser, 10).until(lambda d: posted.json()["id"] in _queue_ids(d))
