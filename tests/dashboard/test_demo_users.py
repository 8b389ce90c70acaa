"""Demo accounts (public passwords) sign in to `grid-dispatch demo` only: `serve` and `http`
refuse them like a wrong password and name them at startup."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

from dashboard.app import create_app
from dashboard.demo_users import (
    DEMO_USERS,
    demo_accounts,
    ensure_demo_users,
    warn_about_demo_accounts,
)
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.credentials import WRONG_PASSWORD, Auth, AuthError
from dispatch.access.roles import Role
from dispatch.store import Store
from dispatch.store.server import EmbeddedRedis, RedisUnavailableError, find_redis_server

OPERATOR, _, OPERATOR_PASSWORD, _ = DEMO_USERS[0]


@pytest.fixture
def redis_url(tmp_path):
    """A Redis of this test's own: the demo accounts' names are common words."""
    try:
        find_redis_server()
    except RedisUnavailableError as exc:
        pytest.skip(str(exc))
    with EmbeddedRedis(tmp_path / "redis") as server:
        yield server.url


@pytest.fixture
def store(redis_url):
    store = Store.from_url(redis_url)
    yield store
    store.close()


def test_demo_accounts_sign_in_to_the_demo_only(store):
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    demo, serve = Auth(store.auth, demo_mode=True), Auth(store.auth)
    assert demo.check_password(OPERATOR, OPERATOR_PASSWORD).role is Role.OPERATOR
    assert demo.user(OPERATOR) is not None
    with pytest.raises(AuthError) as refused:
        serve.check_password(OPERATOR, OPERATOR_PASSWORD)
    assert str(refused.value) == WRONG_PASSWORD
    assert serve.user(OPERATOR) is None, "a demo session ends outside the demo"
    assert sorted(serve.demo_accounts()) == sorted(name for name, *_ in DEMO_USERS)


def test_replacing_a_demo_accounts_password_makes_it_an_ordinary_account(store):
    auth = Auth(store.auth)
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    auth.add_user(OPERATOR, role=Role.OPERATOR, password="the-sites-own-password")
    assert auth.check_password(OPERATOR, "the-sites-own-password").name == OPERATOR
    assert OPERATOR not in auth.demo_accounts()


def test_demo_accounts_made_before_marking_are_found_by_their_public_password(store):
    auth = Auth(store.auth)
    auth.add_user("admin", role=Role.ADMIN, password="pidu-admin")  # an older demo's
    auth.add_user("leader", role=Role.LEADER, password="the-sites-own-password")
    assert demo_accounts(auth) == ["admin"]
    with pytest.raises(AuthError, match=WRONG_PASSWORD):
        auth.check_password("admin", "pidu-admin")
    assert auth.check_password("leader", "the-sites-own-password").name == "leader"
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    assert "leader" not in auth.demo_accounts(), "a site's own account keeps its name"


def test_the_warning_names_each_demo_account_and_how_to_remove_it(store, caplog):
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    with caplog.at_level(logging.WARNING, logger="dashboard.demo_users"):
        found = warn_about_demo_accounts(Auth(store.auth))
    assert found == sorted(name for name, *_ in DEMO_USERS)
    for name in found:
        assert f"grid-dispatch users remove {name}" in caplog.text
    caplog.clear()
    for name in found:
        Auth(store.auth).remove(name)
    with caplog.at_level(logging.WARNING, logger="dashboard.demo_users"):
        assert warn_about_demo_accounts(Auth(store.auth)) == []
    assert caplog.text == ""


@pytest.mark.parametrize("demo, status", [(True, 302), (False, 401)])
def test_the_sign_in_page_in_each_mode(redis_url, store, cache_dir, demo_grids, tmp_path,
                                       demo, status):
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    runtime = open_runtime(Settings(redis_url=redis_url, cache_dir=cache_dir,
                                    data_dir=tmp_path / "data"), warm=False, demo=demo)
    try:
        server = create_app(runtime=runtime).server

        def attempt(user: str, password: str):
            client = server.test_client()
            page = client.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
            return client.post("/login", data={"username": user, "password": password,
                                               "csrf": csrf})

        signed = attempt(OPERATOR, OPERATOR_PASSWORD)
        assert signed.status_code == status
        if not demo:
            unknown = attempt("nobody-here", OPERATOR_PASSWORD)
            assert unknown.status_code == 401
            said = [re.search(r"登录失败 · [^<]+", r.text)[0] for r in (signed, unknown)]
            assert said[0] == said[1] and WRONG_PASSWORD in said[0]
    finally:
        runtime.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", ["serve", "http"])
def test_serve_and_http_name_the_demo_accounts_at_startup(redis_url, store, demo_grids,
                                                          tmp_path, command):
    ensure_demo_users(Auth(store.auth, demo_mode=True))
    env = os.environ | {"REDIS_URL": redis_url, "GRID_DISPATCH_DATA_DIR": str(tmp_path / "d")}
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", command, "--port",
                             str(_free_port())], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "users remove" in line or "open:" in line or "Traceback" in line:
                break
        output = "".join(lines)
        assert "demo account(s)" in output, output
        for name, *_ in DEMO_USERS:
            assert f"`grid-dispatch users remove {name}`" in output
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
