"""The situation map in real headless Chromium: loads, draws all tiers, clicks, stays offline."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
RESULTS = Path(os.environ.get("GRID_DISPATCH_RESULTS", "var/test-results"))


def _viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1,
                            "mobile": False})


def _wait_ready(driver, timeout: float = 30.0) -> dict:
    WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script("return document.body.dataset.mapReady === '1'"))
    return driver.execute_script("return window.gridDispatch.map.ready()")


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def _record(name: str, figures: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
    print(f"\n{name}: {json.dumps(figures)}")


def _get_json(token: str, url: str):
    """The grid API as a program reads it: with a bearer token (anonymous callers get 401)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as resp:
        return json.load(resp)


def test_map_draws_all_tiers_click_opens_panel_and_nothing_leaves_host(browser, live_server,
                                                                    api_token,
                                                                       demo_grids):
    _viewport(browser, 1920, 1080)
    browser.sign_in(live_server)
    browser.get(live_server + "/")
    ready = _wait_ready(browser)
    counts = demo_grids.summary()["counts"]
    assert (ready["total"], ready["general"], ready["micro"]) == (
        counts["total"], counts["general"], counts["micro"])
    _record("map_load", {"time_to_map_drawn_ms": round(ready["drawnMs"]),
                         "target_ms": 2000, "viewport": "1920x1080"})

    # Show the micro tier and zoom to a known spot so one micro-grid fills the map centre.
    browser.find_element(By.ID, "mode-micro").click()
    lon, lat = 103.835, 30.885  # a spot no test posts events at
    expected = _get_json(api_token, f"{live_server}/api/v1/grids/locate?lon={lon}&lat={lat}")
    assert not expected["outside"]
    browser.execute_script(
        "window.gridDispatch.state.map.setView([arguments[1], arguments[0]], 17, {animate: false})",
        lon, lat)
    WebDriverWait(browser, 5).until(
        lambda d: d.execute_script("return document.body.dataset.activeTier") == "micro")
    map_el = browser.find_element(By.ID, "map")
    ActionChains(browser).move_to_element(map_el).click().perform()

    WebDriverWait(browser, 10).until(
        lambda d: expected["micro"] in d.find_element(By.ID, "grid-panel").text)
    panel = browser.find_element(By.ID, "grid-panel").text
    info = _get_json(api_token, f"{live_server}/api/v1/grids/{expected['micro']}")
    assert info["name"] in panel
    assert expected["general"] in panel and expected["total"] in panel  # the parent chain
    assert f"{info['residents']:,}" in panel

    urls = _requested_urls(browser)
    assert any("/geo/" in u and u.endswith("micro.pbf") for u in urls)
    foreign = [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss")
               and urlparse(u).hostname not in LOCAL_HOSTS]
    assert foreign == [], f"requests left the host: {foreign}"


@pytest.mark.parametrize("size", [(1920, 1080), (3840, 2160)])
def test_fills_big_screens_without_scrolling(browser, live_server, size):
    _viewport(browser, *size)
    browser.sign_in(live_server)
    browser.get(live_server + "/")
    _wait_ready(browser)
    dims = browser.execute_script("""
        const s = document.scrollingElement;
        const m = document.getElementById('map').getBoundingClientRect();
        const small = [...document.querySelectorAll('body *')]
          .filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
          .filter(e => e.offsetParent !== null)
          .map(e => [parseFloat(getComputedStyle(e).fontSize), e.className || e.tagName])
          .sort((a, b) => a[0] - b[0]);
        return {sw: s.scrollWidth, sh: s.scrollHeight, w: innerWidth, h: innerHeight,
                mapW: m.width, mapH: m.height, minFont: small[0][0], smallest: small[0][1]};
    """)
    assert dims["sw"] <= dims["w"] and dims["sh"] <= dims["h"], dims
    assert dims["mapW"] > 0.6 * size[0] and dims["mapH"] > 0.75 * size[1], dims
    assert dims["minFont"] >= 16 * size[0] / 1920 - 0.01, dims


def test_english_switch_relabels_the_page(browser, live_server):
    _viewport(browser, 1920, 1080)
    browser.sign_in(live_server)
    browser.get(live_server + "/")
    _wait_ready(browser)
    assert "微网格" in browser.find_element(By.CLASS_NAME, "top-bar").text
    browser.find_element(By.ID, "lang-toggle").click()
    WebDriverWait(browser, 10).until(
        lambda d: "Micro-grids" in d.find_element(By.CLASS_NAME, "top-bar").text)
    assert "Synthetic demo geometry" in browser.find_element(By.CLASS_NAME, "top-bar").text


def test_hover_shows_name_and_code_as_text(browser, live_server, api_token):
    _viewport(browser, 1920, 1080)
    browser.sign_in(live_server)
    browser.get(live_server + "/")
    _wait_ready(browser)
    browser.find_element(By.ID, "mode-total").click()
    lon, lat = 103.835, 30.885  # a spot no test posts events at
    expected = _get_json(api_token, f"{live_server}/api/v1/grids/locate?lon={lon}&lat={lat}")
    browser.execute_script(
        "window.gridDispatch.state.map.setView([arguments[1], arguments[0]], 13, {animate: false})",
        lon, lat)
    map_el = browser.find_element(By.ID, "map")
    ActionChains(browser).move_to_element_with_offset(map_el, 5, 5).perform()
    ActionChains(browser).move_to_element(map_el).perform()
    tip = WebDriverWait(browser, 5).until(
        lambda d: d.find_elements(By.CLASS_NAME, "grid-tooltip"))[0]
    info = _get_json(api_token, f"{live_server}/api/v1/grids/{expected['total']}")
    assert expected["total"] in tip.text and info["name"] in tip.text
    assert tip.find_elements(By.TAG_NAME, "script") == []


def test_a_site_in_english_opens_every_screen_in_english(browser, server_factory):
    """GRID_DISPATCH_LANGUAGE=en: the page, its live column and the switch start in English
    on a screen that has made no choice of its own."""
    server = server_factory(env={"GRID_DISPATCH_LANGUAGE": "en"})
    browser.sign_in(server.url)
    browser.get(server.url + "/")
    _wait_ready(browser)
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.documentElement.lang") == "en")
    assert browser.find_element(By.ID, "lang-toggle").text == "中文"
    assert browser.find_element(By.ID, "layers-title").text == "Layers"
    browser.find_element(By.ID, "lang-toggle").click()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.documentElement.lang") == "zh")
