"""A street muster end to end in three real headless Chromiums: the coordinator plans and
starts it on the drill screen; the operator's and the leader's screens show the same
countdown (±1 s) and progress; the finished drill's report opens offline and its numbers are
the stream's; the replay scrubber shows the state the stream gives at a chosen minute."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Actor, Role
from dispatch.drills.figures import figures
from dispatch.drills.models import DrillAction
from dispatch.drills.replay import state_at
from dispatch.workers.models import DutyStatus, Worker, WorkerRole
from tests.conftest import OPERATOR

pytestmark = pytest.mark.browser

POINT = (103.8890, 30.8080)
COORD, COORD_PW = "coord-drill", "drill-browser-coordinator-pw"
LEADER, LEADER_PW = "lead-drill", "drill-browser-leader-pw"
SPEED = 10


@pytest.fixture(scope="module")
def env(live_server, redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("drill-data")),
                           warm=False)
    try:
        cell = runtime.locator.locate(*POINT)
        roster = [Worker(id=f"DB{i}", name=f"应急队员{i}", phone="10012345678",
                         role=WorkerRole.GRID_WORKER, grid=cell.micro, duty=DutyStatus.ON_DUTY,
                         home_lon=POINT[0] + 0.0004 * i, home_lat=POINT[1])
                  for i in range(1, 7)]
        runtime.workers.replace_all(roster, actor="test", role="admin")
        for name, role, password in ((COORD, Role.COORDINATOR, COORD_PW),
                                     (LEADER, Role.LEADER, LEADER_PW)):
            if runtime.auth.user(name) is None:
                runtime.auth.add_user(name, role=role, password=password)
        token = runtime.auth.create_token(name="drill-browser", role=Role.COORDINATOR)
        _end_other_drills(runtime)
        yield {"runtime": runtime, "street": cell.micro[:9], "token": token}
    finally:
        runtime.close()


def _end_other_drills(runtime) -> None:
    """Drills other tests left running on this Redis would take the banner (it shows the
    first live drill): they are aborted, as a coordinator ends an old exercise."""
    actor = Actor(name="drill-browser-setup", role=Role.COORDINATOR)
    for drill_id in sorted(runtime.drill_store.live_ids()):
        runtime.drills.act(drill_id, DrillAction.ABORT, actor=actor)


def _second(tmp_path: Path, name: str):
    """Another, separate Chromium at 1920 × 1080 (``browser`` has skipped if there is none)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1920,1080", f"--user-data-dir={tmp_path / name}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)


def _sign_in(driver, base: str, user: str, password: str) -> None:
    driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: "/login" not in d.current_url)


def _click(driver, element_id: str) -> None:
    button = WebDriverWait(driver, 20).until(
        lambda d: next((b for b in d.find_elements(By.ID, element_id) if b.is_enabled()), None),
        f"#{element_id} never became enabled")
    driver.execute_script("arguments[0].click()", button)


def _plan_on_screen(driver, base: str, street: str) -> str:
    """The coordinator's form: a simulated street muster at ×10; returns the drill's id."""
    driver.get(base + "/drills")
    scope = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "drill-form-scope"))
    driver.execute_script("arguments[0].value = ''", scope)
    scope.clear()
    scope.send_keys(street)
    for group, wanted in (("drill-form-kind", "muster"), ("drill-form-speed", str(SPEED))):
        radio = driver.find_element(By.CSS_SELECTOR, f"#{group} input[value='{wanted}']")
        driver.execute_script("arguments[0].click()", radio)
    box = driver.find_element(By.CSS_SELECTOR, "#drill-form-simulated input")
    if not box.is_selected():
        driver.execute_script("arguments[0].click()", box)
    _click(driver, "drill-form-submit")
    WebDriverWait(driver, 30).until(lambda d: "drill=" in d.current_url,
                                    "planning did not open the drill's screen")
    return d_id(driver.current_url)


def d_id(url: str) -> str:
    return re.search(r"drill=([^&]+)", url)[1]


def _api(base: str, token: str, path: str) -> dict:
    resp = requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()


# What each screen computes for the drill right now: its drill seconds and the wall time.
ON_DRILL_SCREEN = """
  const gd = window.gridDispatch, v = gd.drills && gd.drills.state.view;
  if (!v || v.id !== arguments[0]) return null;
  return [gd.drillClock.elapsed(v.clock), Date.now() / 1000];"""
ON_BANNER = """
  const gd = window.gridDispatch, b = gd.drillBanner;
  const d = b && b.state.drills.find((x) => x.id === arguments[0]);
  if (!d) return null;
  return [gd.drillClock.elapsed(d.clock), Date.now() / 1000];"""


def _clocks(screens: dict, drill_id: str) -> dict[str, float]:
    """Each screen's drill time, brought to the first reading's instant."""
    read = {name: WebDriverWait(driver, 20).until(
        lambda d, s=script: d.execute_script(s, drill_id), f"{name} never showed the drill")
        for name, (driver, script) in screens.items()}
    t0 = min(at for _, at in read.values())
    return {name: elapsed - (at - t0) * SPEED for name, (elapsed, at) in read.items()}


def _shown(screens: dict) -> dict[str, tuple[str, int]]:
    """(countdown text, whole percent) as each screen shows them."""
    out = {}
    for name, (driver, _) in screens.items():
        if name == "coordinator":
            clock = driver.find_element(By.ID, "drill-countdown").text
            share = driver.find_element(By.ID, "drill-progress-share").text
        else:
            clock = driver.find_element(By.ID, "drill-banner-clock").text
            share = driver.find_element(By.ID, "drill-banner-share").text
        out[name] = (clock, int(float(share.replace("%", "").strip())))
    return out


def test_a_street_muster_seen_alike_on_three_screens_then_reported_and_replayed(
        env, live_server, browser, tmp_path):
    base, token = live_server, env["token"]
    operator, leader = _second(tmp_path, "operator"), _second(tmp_path, "leader")
    try:
        _sign_in(browser, base, COORD, COORD_PW)
        drill_id = _plan_on_screen(browser, base, env["street"])
        _click(browser, "drill-start")
        WebDriverWait(browser, 20).until(
            lambda _d: _api(base, token, f"/api/v1/drills/{drill_id}")["status"] == "running")
        _sign_in(operator, base, *OPERATOR)
        _sign_in(leader, base, LEADER, LEADER_PW)
        for driver in (operator, leader):
            driver.get(base + "/")
        screens = {"coordinator": (browser, ON_DRILL_SCREEN), "operator": (operator, ON_BANNER),
                   "leader": (leader, ON_BANNER)}
        _same_clock_while_running(screens, drill_id)
        WebDriverWait(browser, 120).until(
            lambda _d: _api(base, token, f"/api/v1/drills/{drill_id}")["progress"]["done"] > 0,
            "no simulated responder arrived")
        _click(browser, "drill-pause")
        _same_figures_while_paused(screens, base, token, drill_id)
        _click(browser, "drill-resume")
        time.sleep(2)
        _finish(browser, base, token, drill_id)
        log = env["runtime"].drill_store.log(drill_id)
        _report_offline(operator, base, token, drill_id, log, tmp_path)
        _replay_a_minute(browser, base, drill_id, log)
    finally:
        operator.quit()
        leader.quit()


def _same_clock_while_running(screens: dict, drill_id: str) -> None:
    clocks = _clocks(screens, drill_id)
    spread = max(clocks.values()) - min(clocks.values())
    assert spread <= 1.0, f"the screens' countdowns differ by {spread:.2f} s: {clocks}"


def _same_figures_while_paused(screens: dict, base: str, token: str, drill_id: str) -> None:
    """Paused, the clock stands still: every screen shows the same text and the same share,
    and they are the server's."""
    view = _api(base, token, f"/api/v1/drills/{drill_id}")
    assert view["status"] == "paused"
    left = round(view["clock"]["target_s"] - view["clock"]["elapsed_s"])
    expected = (f"{abs(left) // 60:02d}:{abs(left) % 60:02d}",
                int(view["progress"]["share"] * 100))

    def alike(_d) -> dict | None:
        shown = _shown(screens)
        return shown if all(v == expected for v in shown.values()) else None

    try:
        WebDriverWait(screens["coordinator"][0], 15).until(alike)
    except Exception as exc:  # say what each screen showed
        raise AssertionError(f"expected {expected} on every screen, got {_shown(screens)}") \
            from exc


def _finish(driver, base: str, token: str, drill_id: str) -> None:
    """Finish asks for confirmation first (a dialog the coordinator accepts)."""
    _click(driver, "drill-finish")
    WebDriverWait(driver, 10).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(driver, 20).until(
        lambda _d: _api(base, token, f"/api/v1/drills/{drill_id}")["status"] == "finished")


def _report_offline(driver, base: str, token: str, drill_id: str, log, tmp_path) -> None:
    """The report file opened with the network off shows the stream's figures."""
    resp = requests.get(f"{base}/api/v1/drills/{drill_id}/report",
                        headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert resp.status_code == 200
    path = tmp_path / "report.html"
    path.write_bytes(resp.content)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    driver.get(path.as_uri())
    shown = {el.get_attribute("data-figure"): int(el.text.replace(",", ""))
             for el in driver.find_elements(By.CSS_SELECTOR, "[data-figure]")}
    expected = figures(log)
    assert shown == {k: expected[k] for k in ("reached", "total", "within_target",
                                              "late_count", "missing_count")}
    verdict = driver.find_element(By.CSS_SELECTOR, ".verdict").get_attribute("class")
    assert ("pass" in verdict.split()) is expected["passed"]
    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)")
    assert fetched == [], f"the report asked the network for {fetched}"


def _replay_a_minute(driver, base: str, drill_id: str, log) -> None:
    """The scrubber set to minute 2 shows the state the stream gives at 2:00."""
    driver.get(f"{base}/drills?drill={drill_id}")
    WebDriverWait(driver, 30).until(
        lambda d: "hidden" not in d.find_element(By.ID, "drill-replay").get_attribute("class"))
    driver.execute_script(
        "window.dash_clientside.set_props('drill-replay-slider', {value: 2})")
    state = WebDriverWait(driver, 20).until(
        lambda d: d.find_element(By.ID, "drill-replay-state").get_attribute("data-t") in
        ("120", "120.0") and d.find_element(By.ID, "drill-replay-state"),
        "the replay never showed minute 2")
    expected = state_at(log, 120)
    assert int(state.get_attribute("data-done")) == expected["arrived"]
    assert int(state.get_attribute("data-total")) == expected["total"]
    assert state.get_attribute("data-status") == expected["status"]
