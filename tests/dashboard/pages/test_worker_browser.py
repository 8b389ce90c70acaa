"""The worker's phone page in real headless Chromium: text stays text, and a tap made offline
is kept on the phone and sent once the connection returns."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.intake import Report, parse
from dispatch.events.models import Source
from dispatch.workers.models import Worker, WorkerRole

pytestmark = pytest.mark.browser

USER, PASSWORD = "WB1", "worker-browser-pw"
POINT = (103.8890, 30.8080)
MARKUP = '<img src=x onerror="window.__xss=1">楼道<b>堆物</b>'


@pytest.fixture
def task(live_server, redis_server, cache_dir, demo_grids, tmp_path):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path), warm=False)
    try:
        cell = runtime.locator.locate(*POINT)
        runtime.workers.replace_all([Worker(
            id=USER, name="网格员乙", phone="10012345678", role=WorkerRole.GRID_WORKER,
            grid=cell.micro, home_lon=POINT[0], home_lat=POINT[1])], actor="test", role="admin")
        runtime.auth.add_user(USER, role=Role.WORKER, password=PASSWORD, scope=Scope(
            Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total])))
        operator = Actor(name="wb-operator", role=Role.OPERATOR)
        event = runtime.intake.submit(Report(data=parse({
            "category": "01001", "lon": POINT[0], "lat": POINT[1], "description": MARKUP}),
            source=Source.API), actor=operator).id
        yield runtime, runtime.tasks.assign(event, USER, actor=operator)
    finally:
        runtime.close()


def _offline(driver, offline: bool) -> None:
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def _card(driver, task_id: str):
    return driver.find_element(By.CSS_SELECTOR, f'.w-card[data-task="{task_id}"]')


def test_text_stays_text_and_an_offline_tap_is_sent_once_online(browser, live_server, task):
    runtime, assigned = task
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    browser.get(live_server + "/m/")
    browser.find_element(By.NAME, "username").send_keys(USER)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-task="{assigned["id"]}"]'))
    wait.until(lambda d: _card(d, assigned["id"]).find_element(
        By.CSS_SELECTOR, ".w-desc").text == MARKUP)
    card = _card(browser, assigned["id"])
    assert card.find_elements(By.CSS_SELECTOR, ".w-desc *") == []
    assert browser.execute_script("return window.__xss") is None

    _offline(browser, True)
    wait.until(lambda d: "离线" in d.find_element(By.ID, "w-net").text)
    accept = card.find_element(By.CSS_SELECTOR, ".w-actions .w-primary")
    assert accept.text.startswith("接单")
    browser.execute_script("arguments[0].click()", accept)
    wait.until(lambda d: "离线 · 1 项待发送" in d.find_element(By.ID, "w-banner").text)
    assert "待发送" in _card(browser, assigned["id"]).find_element(
        By.CSS_SELECTOR, ".w-pending").text
    assert runtime.tasks.get(assigned["id"])["status"] == "assigned"

    _offline(browser, False)
    wait.until(lambda d: runtime.tasks.get(assigned["id"])["status"] == "accepted")
    wait.until(lambda d: not d.find_element(By.ID, "w-banner").is_displayed())
    assert browser.execute_script(f"return localStorage.getItem('gd-worker-queue:{USER}')") \
        == "[]"

    urls = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    foreign = [u for m in urls if m["method"] == "Network.requestWillBeSent"
               and urlparse(u := m["params"]["request"]["url"]).scheme in ("http", "https",
                                                                          "ws", "wss")
               and urlparse(u).netloc != urlparse(live_server).netloc]
    assert foreign == []
