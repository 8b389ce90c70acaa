"""The operator screen in headless Chromium: new events appear live; after the server dies
and comes back, the page recovers by itself and shows what was posted in between."""

from __future__ import annotations

import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser
REPORT = {"category": "11004", "lon": 103.95, "lat": 30.79, "description": "电动车楼道充电"}


def _post(url: str, token: str, text: str) -> str:
    r = requests.post(f"{url}/api/v1/events", json=REPORT | {"description": text},
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _queue_ids(driver) -> set[str]:
    """Events the screen holds for its queue: the rows drawn are the first 300 of these in
    urgency order, so on a busy shared Redis a new routine event may be held but not drawn."""
    return set(driver.execute_script("return Object.keys(window.gridDispatch.live.state.events)"))


def _on_map(driver, event_id: str) -> bool:
    """A marker for the event is on the Leaflet map (alone, or inside a cluster)."""
    return driver.execute_script("""
        let found = false;
        window.gridDispatch.state.map.eachLayer((l) => {
          const p = l.feature && l.feature.properties;
          if (p && (p.id === arguments[0] || p.cluster)) found = true;
        });
        return found;""", event_id)


def test_new_event_appears_and_page_recovers_after_server_restart(browser, server_factory,
                                                                  api_token):
    server = server_factory()
    browser.sign_in(server.url)
    browser.get(server.url + "/")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script("return document.body.dataset.mapReady === '1'"))
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return !!window.gridDispatch.live.state.seq"))

    first = _post(server.url, api_token, "实时上图测试")
    posted = time.time()
    WebDriverWait(browser, 5).until(lambda d: first in _queue_ids(d))
    print(f"\nevent on screen after {time.time() - posted:.2f} s")
    WebDriverWait(browser, 2).until(lambda d: _on_map(d, first))

    seq_before = browser.execute_script("return window.gridDispatch.live.state.seq")
    server.kill()
    WebDriverWait(browser, 15).until(lambda d: "hidden" not in d.find_element(
        By.ID, "live-banner").get_attribute("class"))

    other = server_factory()  # another process on the same Redis takes reports meanwhile
    missed = [_post(other.url, api_token, f"断线期间事件 {i}") for i in range(3)]
    server.start()
    WebDriverWait(browser, 30).until(lambda d: set(missed) <= _queue_ids(d))
    WebDriverWait(browser, 10).until(lambda d: "hidden" in d.find_element(
        By.ID, "live-banner").get_attribute("class"))
    assert browser.execute_script("return window.gridDispatch.live.state.seq") > seq_before
    assert first in _queue_ids(browser)
