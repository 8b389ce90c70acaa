"""bench screen: the operator's screen in real headless Chromium, beside its floors.

Two figures, each with the floor under it measured in the same run:

- Map drawn: from navigation start to the three grid tiers drawn (the page sets
  ``data-map-ready`` two frames after the last feature and keeps that ``performance.now()``),
  for a browser with an empty cache once and then as a returning operator's browser, which
  keeps its cache. Floor: the same browser fetching the three tier layers with ``fetch()`` and
  reading their bytes, over the network and from its cache.
- Event on screen: the page itself posts each event through ``POST /api/v1/events`` and times,
  in its own clock, from the answer (accepted) to the animation frame after the event is held
  in ``gridDispatch.live.state.events`` (its queue row is inserted in the same task). Floor: a
  lean websocket client (bench.light_client) on ``/live`` at the same time, whose clock is set
  against the browser's.

Events are posted one at a time, each after a random pause shorter than the live feed's tick,
so they land at every phase of it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.harness import running_server, sample_reports
from bench.light_client import LightListener
from dashboard.live import LiveHub
from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.store import Store
from geo.catalog import demo_grid_set
from geo.model import Tier

WIDTH, HEIGHT = 1920, 1080
INSTALL = "apt-get install -y chromium chromium-driver"


class BrowserMissingError(RuntimeError):
    """Chromium, its driver or selenium is not installed."""


def find_chromium() -> tuple[str, str]:
    """(browser, driver) paths, or BrowserMissingError naming what to install."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        raise BrowserMissingError(f"Chromium or chromedriver not found: {INSTALL}")
    if importlib.util.find_spec("selenium") is None:
        raise BrowserMissingError("selenium is not installed: pip install -e '.[test]'")
    return browser, driver


def run(settings, *, loads: int, events: int, seed: int = 11,
        event_timeout_s: float = 10.0) -> dict:
    browser_path, driver_path = find_chromium()
    reports = sample_reports(demo_grid_set(settings.cache_dir), events, seed=seed)
    rng = random.Random(seed)
    pauses = [rng.uniform(0, LiveHub.tick_s * 1000) for _ in reports]
    with running_server(settings, fsync="always") as (base, redis_server, token, _pid), \
            tempfile.TemporaryDirectory(prefix="gd-bench-chromium-") as profile:
        user = _add_operator(redis_server.url)
        driver = _chromium(browser_path, driver_path, Path(profile))
        try:
            _sign_in(driver, base, *user)
            layers = _tier_layers(base, token)
            maps = _map_loads(driver, base, layers, loads)
            live = _events(driver, base, token, reports, pauses, event_timeout_s)
            version = driver.capabilities.get("browserVersion")
            driver_version = str(driver.capabilities.get("chrome", {})
                                 .get("chromedriverVersion", "")).split(" ")[0]
        finally:
            driver.quit()
    return {"benchmark": "screen", **maps, **live, "chromium": version,
            "chromedriver": driver_version, "viewport": f"{WIDTH}x{HEIGHT}",
            "coalescing_tick_ms": round(LiveHub.tick_s * 1000), "cpu_count": os.cpu_count()}


def _add_operator(redis_url: str) -> tuple[str, str]:
    """A sign-in of the benchmark's own, on the benchmark's Redis."""
    user, password = "bench-operator", secrets.token_urlsafe(16)
    store = Store.from_url(redis_url)
    try:
        Auth(store.auth).add_user(user, role=Role.OPERATOR, password=password)
    finally:
        store.close()
    return user, password


def _chromium(browser: str, driver: str, profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        chrome.set_window_size(WIDTH, HEIGHT)
        # The viewport itself, as the big screens have it (the window's frame would take some).
        chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1,
                                "mobile": False})
    except Exception:
        chrome.quit()
        raise
    return chrome


def _sign_in(driver, base: str, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(lambda d: "/login" not in d.current_url)


def _tier_layers(base: str, token: str) -> list[str]:
    """URLs of the three tiers' layers, as the server names them (the map waits for these)."""
    r = requests.get(f"{base}/api/v1/grids", headers={"Authorization": f"Bearer {token}"},
                     timeout=30)
    r.raise_for_status()
    layers = r.json()["layers"]
    return [base + layers[t.value] for t in Tier]


# --- map drawn ---------------------------------------------------------------------------

_LOAD_FIGURES = """
const [tiers] = arguments;
const nav = performance.getEntriesByType('navigation')[0];
const layers = performance.getEntriesByType('resource').filter((r) => tiers.includes(r.name));
return {
  drawn: window.gridDispatch.metrics.mapDrawnMs - nav.startTime,
  type: nav.type,
  counts: window.gridDispatch.map.ready(),
  layerBytes: layers.reduce((n, r) => n + r.transferSize, 0),
};
"""

# The floor under the map: the same layers fetched in parallel and read to the last byte.
_FETCH_LAYERS = """
const [urls, cache, done] = arguments;
const t0 = performance.now();
Promise.all(urls.map((u) => fetch(u, {cache: cache, credentials: 'same-origin'})
    .then((r) => { if (!r.ok) throw new Error(u + ': ' + r.status); return r.arrayBuffer(); })))
  .then((bodies) => done({ms: performance.now() - t0,
                          bytes: bodies.reduce((n, b) => n + b.byteLength, 0)}))
  .catch((e) => done({error: String(e)}));
"""


def _load(driver, base: str, layers: list[str]) -> dict:
    """A fresh navigation (from a blank page, so it is not a reload) until the map is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get(base + "/")
    WebDriverWait(driver, 60, poll_frequency=0.05).until(
        lambda d: d.execute_script("return document.body.dataset.mapReady === '1'"))
    figures = driver.execute_script(_LOAD_FIGURES, layers)
    if figures["type"] != "navigate":
        raise RuntimeError(f"the page load was a {figures['type']!r}, not a fresh navigation")
    return figures


def _fetch_layers(driver, urls: list[str], cache: str) -> dict:
    result = driver.execute_async_script(_FETCH_LAYERS, urls, cache)
    if "error" in result:
        raise RuntimeError(f"fetching the layers failed: {result['error']}")
    return result


def _map_loads(driver, base: str, layers: list[str], loads: int) -> dict:
    driver.set_script_timeout(60)
    _load(driver, base, layers)  # the server serves the page once before anything is timed
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    cold = _load(driver, base, layers)
    drawn, network, cached, layer_bytes = [], [], [], []
    for _ in range(loads):
        load = _load(driver, base, layers)
        drawn.append(load["drawn"])
        layer_bytes.append(load["layerBytes"])
        # Right after each load, so the floor sees the same moment's machine as the map did.
        network.append(_fetch_layers(driver, layers, "no-store"))
        cached.append(_fetch_layers(driver, layers, "default"))
    counts = cold["counts"]
    return {
        "map_drawn_ms": {
            "from": "navigation start to the three tiers drawn (data-map-ready)",
            "cold_first_load": round(cold["drawn"], 1),
            "cold_layer_bytes_transferred": cold["layerBytes"],
            "returning": _spread(drawn) | {"loads": loads,
                                           "layer_bytes_transferred_max": max(layer_bytes)},
            "features": {t.value: counts[t.value] for t in Tier},
        },
        "layers_fetch_ms": {
            "layers": [u.rsplit("/", 1)[1] for u in layers],
            "bytes_read": network[0]["bytes"],
            "network": _spread([f["ms"] for f in network]),
            "cached": _spread([f["ms"] for f in cached]),
        },
    }


# --- event on screen ---------------------------------------------------------------------

# Times are the page's performance.now(). ``held`` is noted by a MutationObserver on the queue
# (the row goes in with the event) and once a frame; ``frame`` is the first animation frame at
# or after it, the one that paints it. Ids held before the answer arrived are kept with the
# time they were first seen, so an event faster than its own answer still counts.
_POST_AND_WATCH = """
const [token, report, pauseMs, timeoutMs, done] = arguments;
const events = window.gridDispatch.live.state.events;
const seen = {};
for (const k of Object.keys(events)) seen[k] = null;
let id = null, accepted = null, finished = false;
function note() {
  const t = performance.now();
  for (const k in events) if (!(k in seen)) seen[k] = t;
}
function finish(result) {
  if (finished) return;
  finished = true;
  observer.disconnect();
  done(result);
}
const observer = new MutationObserver(note);
observer.observe(document.getElementById('event-queue'), {childList: true});
(function frame() {
  if (finished) return;
  note();
  if (id !== null && seen[id] != null) {
    finish({id: id, accepted: accepted, held: seen[id], frame: performance.now(),
            epoch: performance.timeOrigin});
    return;
  }
  requestAnimationFrame(frame);
})();
setTimeout(async () => {
  try {
    const res = await fetch('/api/v1/events', {
      method: 'POST', credentials: 'omit', body: JSON.stringify(report),
      headers: {'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json'}});
    accepted = performance.now();
    const body = await res.json();
    if (res.status !== 201) {
      finish({error: res.status + ' ' + JSON.stringify(body)});
      return;
    }
    id = body.id;
    note();
  } catch (e) {
    finish({error: String(e)});
  }
}, pauseMs);
setTimeout(() => finish({id: id, accepted: accepted, missing: true,
                         epoch: performance.timeOrigin}), pauseMs + timeoutMs);
"""


def _events(driver, base: str, token: str, reports: list[dict], pauses: list[float],
            timeout_s: float) -> dict:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 30, poll_frequency=0.05).until(lambda d: d.execute_script(
        "const s = window.gridDispatch.live.state; return s.connected && !!s.seq"))
    driver.set_script_timeout(timeout_s + LiveHub.tick_s + 30)
    with _SocketClient(base, token) as client:
        offset_ms, uncertainty_ms = _clock_offset(driver)
        results = [driver.execute_async_script(_POST_AND_WATCH, token, report, pause,
                                               timeout_s * 1000)
                   for report, pause in zip(reports, pauses, strict=True)]
        time.sleep(timeout_s if any(r.get("missing") for r in results) else 1.0)
    failed = [r["error"] for r in results if "error" in r]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(results)} posts failed, first: {failed[0]}")
    on_screen, held, at_client = [], [], []
    missing_screen = missing_client = 0
    for r in results:
        if r.get("missing"):
            missing_screen += 1
        else:
            on_screen.append(max(r["frame"] - r["accepted"], 0.0))
            held.append(max(r["held"] - r["accepted"], 0.0))
        received = client.received.get(r["id"])
        if received is None:
            missing_client += 1
        else:
            accepted_at = r["epoch"] + r["accepted"] - offset_ms  # in this process's clock
            at_client.append(max(received * 1000 - accepted_at, 0.0))
    return {
        "event_on_screen_ms": _tail(on_screen) | {
            "events": len(results), "missing": missing_screen,
            "held_in_page_p50": _tail(held)["p50"],
            "from": "accepted (POST answered in the page) to the frame after it is held"},
        "event_at_socket_client_ms": _tail(at_client) | {
            "events": len(results), "missing": missing_client,
            "client": "lean websocket listener on /live (bench.light_client)",
            "clock_offset_ms": round(offset_ms, 2),
            "clock_uncertainty_ms": round(uncertainty_ms, 2)},
    }


def _clock_offset(driver) -> tuple[float, float]:
    """The browser's epoch clock minus this process's, from the read with the shortest round
    trip (half of which bounds the error)."""
    best = (0.0, float("inf"))
    for _ in range(20):
        t0 = time.time() * 1000
        browser = driver.execute_script("return performance.timeOrigin + performance.now()")
        t1 = time.time() * 1000
        if t1 - t0 < best[1]:
            best = (browser - (t0 + t1) / 2, t1 - t0)
    return best[0], best[1] / 2


class _SocketClient:
    """A LightListener on its own event loop in a thread, for the length of a ``with``."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.listener = LightListener()
        self.received = self.listener.received
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._failed: BaseException | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            await self.listener.run(self.base, self.token, self._stop)

        try:
            self._loop.run_until_complete(main())
        except BaseException as exc:  # reported by __enter__ or __exit__
            self._failed = exc
        finally:
            self._loop.close()

    def __enter__(self) -> _SocketClient:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.listener.connected.is_set():
            if self._failed or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the socket client did not connect: {self._failed}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# --- figures -----------------------------------------------------------------------------

def _q(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[int(p * (len(ordered) - 1))], 1) if ordered else None


def _spread(values: list[float]) -> dict:
    return {"p50": _q(values, 0.5), "min": _q(values, 0.0), "max": _q(values, 1.0)}


def _tail(values: list[float]) -> dict:
    return {"p50": _q(values, 0.5), "p99": _q(values, 0.99), "max": _q(values, 1.0)}
