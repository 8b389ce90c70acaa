"""The residents' form on a phone-sized headless Chromium: fill, locate, fix, submit, receipt."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
import shapely
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from geo.model import Tier

pytestmark = pytest.mark.browser

FORM_SHOT = Path("/tmp/resident-form.png")
RECEIPT_SHOT = Path("/tmp/resident-receipt.png")
ERRORS_SHOT = Path("/tmp/resident-errors.png")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _phone(driver, *, width: int, height: int) -> None:
    """A phone screen at 2× pixel density."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 2,
                            "mobile": True})


def _position(driver, *, lon: float, lat: float) -> None:
    """The resident allows location; the phone reports a precise fix."""
    driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"]})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"longitude": lon, "latitude": lat, "accuracy": 15})


def _full_page(driver, path: Path) -> None:
    shot = driver.execute_cdp_cmd("Page.captureScreenshot",
                                  {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))


def _requested_hosts(driver) -> set[str]:
    hosts = set()
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            url = msg["params"]["request"]["url"]
            if url.startswith("http"):
                hosts.add(urlparse(url).hostname)
    return hosts


def test_resident_fills_the_form_on_a_phone_and_gets_a_receipt(browser, live_server,
                                                               demo_grids):
    micro = demo_grids.tier(Tier.MICRO)["code"].iloc[42]
    point = shapely.point_on_surface(demo_grids.geometry(micro))
    url = f"{live_server}/report?grid={micro}&b=2单元"
    _phone(browser, width=360, height=640)
    browser.get(url)
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 360
    _phone(browser, width=375, height=812)
    _position(browser, lon=point.x, lat=point.y)
    browser.get(url)

    browser.find_element(By.CSS_SELECTOR, "input[name=category][value='11001'] + span").click()
    typed = "楼道里有电动车充电 <b>请处理</b>"
    browser.find_element(By.ID, "description").send_keys(typed)
    assert browser.find_element(By.ID, "desc-n").text == str(len(typed))
    browser.find_element(By.ID, "phone").send_keys("1391234567x")
    locate = browser.find_element(By.ID, "use-phone")
    assert locate.is_displayed() and locate.size["height"] >= 44
    locate.click()
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.ID, "lon").get_attribute("value"))
    assert "使用手机定位" in browser.find_element(By.ID, "place-text").text
    _full_page(browser, FORM_SHOT)

    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "err-phone"))
    assert browser.find_element(By.ID, "description").get_attribute("value") == typed
    assert "使用手机定位" in browser.find_element(By.ID, "place-text").text
    _full_page(browser, ERRORS_SHOT)
    phone = browser.find_element(By.ID, "phone")
    phone.clear()
    phone.send_keys("13912345678")
    browser.find_element(By.ID, "submit").click()

    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "event-id"))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "您的反映已受理，编号" in body and "手机定位" in body and "139****5678" in body
    assert browser.find_element(By.ID, "receipt-text").text == typed
    assert not browser.find_elements(By.CSS_SELECTOR, "#receipt-text b")
    _full_page(browser, RECEIPT_SHOT)
    assert _requested_hosts(browser) <= LOCAL_HOSTS
