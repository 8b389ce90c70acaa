"""Sign-in: the CSRF check cannot be skipped, logout is POST-only, unknown users cost the same
hash as known ones, pages cannot be framed, and cookies are Secure behind HTTPS."""

from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access import credentials
from dispatch.access.roles import Role

USER, PASSWORD = "login-operator", "login-operator-pw"


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    runtime.auth.add_user(USER, role=Role.OPERATOR, password=PASSWORD)
    yield create_app(runtime=runtime).server, runtime
    runtime.close()


def _signed_in(client) -> bool:
    return client.get("/_dash-layout").status_code == 200


def _form_csrf(client) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]


def test_a_post_without_the_form_and_cookie_does_not_sign_in(env):
    server, _ = env
    client = server.test_client()
    resp = client.post("/login", data={"username": USER, "password": PASSWORD})
    assert resp.status_code == 401 and not _signed_in(client)
    forged = server.test_client()
    resp = forged.post("/login", data={"username": USER, "password": PASSWORD, "csrf": ""})
    assert resp.status_code == 401 and not _signed_in(forged)


def test_the_form_signs_in_and_only_a_post_signs_out(env):
    server, _ = env
    client = server.test_client()
    resp = client.post("/login", data={"username": USER, "password": PASSWORD,
                                       "csrf": _form_csrf(client)})
    assert resp.status_code == 302 and _signed_in(client)
    assert client.get("/logout").status_code == 405
    assert _signed_in(client), "a GET (a link or an image elsewhere) must not sign out"
    assert client.post("/logout").status_code == 302
    assert not _signed_in(client)


def test_an_unknown_user_costs_a_password_hash_too(env, monkeypatch):
    _, runtime = env
    calls = []
    real = credentials.check_password_hash
    monkeypatch.setattr(credentials, "check_password_hash",
                        lambda stored, given: calls.append(stored) or real(stored, given))
    for name in (USER, "nobody-by-this-name"):
        with pytest.raises(credentials.AuthError, match="wrong user name or password"):
            runtime.auth.check_password(name, "not the password")
    assert len(calls) == 2 and calls[0] != calls[1]


@pytest.mark.parametrize("path", ["/login", "/"])
def test_operator_pages_cannot_be_framed(env, path):
    server, _ = env
    client = server.test_client()
    client.post("/login", data={"username": USER, "password": PASSWORD,
                                "csrf": _form_csrf(client)})
    resp = client.get(path)
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_the_residents_form_keeps_its_own_policy(env):
    server, _ = env
    resp = server.test_client().get("/report?grid=nope")
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]


@pytest.mark.parametrize("settings, secure", [
    ({}, False), ({"public_url": "https://gd.example.cn"}, True),
    ({"public_url": "https://gd.example.cn", "secure_cookies": False}, False),
    ({"secure_cookies": True}, True),
])
def test_cookies_are_secure_behind_https(redis_server, cache_dir, demo_grids, tmp_path,
                                         settings, secure):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path, **settings), warm=False)
    try:
        resp = create_app(runtime=runtime).server.test_client().get("/login")
        cookie = resp.headers["Set-Cookie"]
        assert ("Secure" in cookie) == secure and "HttpOnly" in cookie
    finally:
        runtime.close()
