"""Session fixtures: a real redis-server, the demo grid set, a running app, headless Chromium.

A missing redis-server or Chromium skips the tests that need it, with how to get it; under CI
(CI=true) it fails instead, so a green CI run always means those tests ran.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatch.privacy.vault import new_key
from dispatch.store.server import EmbeddedRedis, RedisUnavailableError, find_redis_server

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# One data key for the session: every runtime and every server the tests start seals with it.
os.environ.setdefault("GRID_DISPATCH_DATA_KEY", new_key())


def _unavailable(message: str):
    if IN_CI:
        pytest.fail(message + " (CI=true: required here)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The demo cache shared with the app, so generated data is built once per machine."""
    from geo.catalog import default_cache_dir

    return default_cache_dir()


@pytest.fixture(scope="session")
def demo_grids(cache_dir):
    from geo.catalog import demo_grid_set

    return demo_grid_set(cache_dir)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    try:
        find_redis_server()
    except RedisUnavailableError as exc:
        _unavailable(f"{exc}")
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    with server:
        yield server


@pytest.fixture
def own_store(tmp_path):
    """A Redis of this test's own, for code that reads "the newest events" of the whole store
    (other test files on the same worker leave theirs, some dated years ahead)."""
    from dispatch.store import Store

    try:
        find_redis_server()
    except RedisUnavailableError as exc:
        _unavailable(f"{exc}")
    with EmbeddedRedis(tmp_path / "redis") as server:
        s = Store.from_url(server.url)
        yield s
        s.close()


@pytest.fixture
def store(redis_server):
    from dispatch.store import Store

    s = Store.from_url(redis_server.url)
    yield s
    s.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


OPERATOR = ("op-test", "op-test-password")


@pytest.fixture(scope="session")
def operator_login(redis_server):
    """A real operator account in the session's Redis: (user, password)."""
    from dispatch.access.credentials import Auth
    from dispatch.access.roles import Role
    from dispatch.store import Store

    store = Store.from_url(redis_server.url)
    Auth(store.auth).add_user(OPERATOR[0], role=Role.OPERATOR, password=OPERATOR[1])
    store.close()
    return OPERATOR


def _healthy(base: str) -> bool:
    """Ready means answering: the port is bound before the app has finished starting."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


class ServerProcess:
    """One ``grid-dispatch serve`` process on a given port and Redis; can be killed and
    started again on the same port."""

    def __init__(self, *, port: int, redis_url: str, workdir: Path,
                 env: dict[str, str] | None = None) -> None:
        self.port, self.redis_url, self.workdir = port, redis_url, workdir
        self.env = env or {}
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServerProcess:
        env = os.environ | {"REDIS_URL": self.redis_url,
                            "GRID_DISPATCH_DATA_DIR": str(self.workdir / "data")} | self.env
        log = self.workdir / "serve.log"
        with open(log, "ab") as fh:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(self.port)],
                stdout=fh, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"grid-dispatch serve exited:\n{log.read_text()}")
            if _healthy(self.url):
                return self
            time.sleep(0.2)
        self.proc.kill()
        pytest.fail(f"grid-dispatch serve did not listen:\n{log.read_text()}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="session")
def live_server(redis_server, demo_grids, tmp_path_factory, operator_login):
    """``grid-dispatch serve`` in its own process on a free port, on the session's Redis."""
    server = ServerProcess(port=_free_port(), redis_url=redis_server.url,
                           workdir=tmp_path_factory.mktemp("serve")).start()
    yield server.url
    server.stop()


@pytest.fixture
def server_factory(redis_server, demo_grids, tmp_path, operator_login):
    """Start extra server processes on the session's Redis; all stopped after the test."""
    started: list[ServerProcess] = []

    def make(port: int | None = None, env: dict[str, str] | None = None) -> ServerProcess:
        workdir = tmp_path / f"serve{len(started)}"
        workdir.mkdir()
        server = ServerProcess(port=port or _free_port(), redis_url=redis_server.url,
                               workdir=workdir, env=env).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def api_token(redis_server):
    from dispatch.access.credentials import Auth
    from dispatch.access.roles import Role
    from dispatch.store import Store

    store = Store.from_url(redis_server.url)
    token = Auth(store.auth).create_token(name="test-operator", role=Role.OPERATOR)
    store.close()
    return token


@pytest.fixture(scope="session")
def cjk_font():
    """The Simplified Chinese face the QR sheets print their labels in."""
    from dispatch.channels.resident.fonts import FontMissingError, load_fonts

    try:
        return load_fonts()
    except FontMissingError as exc:
        _unavailable(str(exc))


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser(tmp_path):
    found = _chromium()
    if not found:
        _unavailable("Chromium not found: apt-get install -y chromium chromium-driver "
                     "fonts-noto-cjk")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1920,1080", f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(found[1]), options=opts)
    driver.set_window_size(1920, 1080)
    driver.sign_in = lambda base, user=OPERATOR: _sign_in(driver, base, *user)
    yield driver
    driver.quit()


def _sign_in(driver, base: str, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
