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


def _attempt(server, user: str, password: str, address: str):
    client = server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client.post("/login", data={"username": user, "password": password,
                                       "csrf": _form_csrf(client)})


def test_an_account_locks_after_five_failures_even_for_the_right_password(env):
    server, runtime = env
    runtime.auth.add_user("login-locked", role=Role.LEADER, password="the-right-one")
    for i in range(5):
        assert _attempt(server, "login-locked", "wrong", f"10.1.0.{i}").status_code == 401
    locked = _attempt(server, "login-locked", "the-right-one", "10.1.0.99")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 60
    assert "too many failed sign-ins from this account" in locked.text
    assert _attempt(server, USER, PASSWORD, "10.1.0.99").status_code == 302  # others sign in


def test_an_address_locks_after_twenty_failures_across_accounts(env):
    server, _ = env
    for i in range(20):
        assert _attempt(server, f"login-guess-{i}", "guess", "10.2.0.1").status_code == 401
    locked = _attempt(server, USER, PASSWORD, "10.2.0.1")
    assert locked.status_code == 429 and "from this address" in locked.text
    assert _attempt(server, USER, PASSWORD, "10.2.0.2").status_code == 302


def test_unknown_and_known_names_lock_alike(env):
    server, runtime = env
    runtime.auth.add_user("login-known", role=Role.LEADER, password="known-password")
    answers = []
    for name in ("login-known", "login-unknown-name"):
        for i in range(6):
            answers.append((name, _attempt(server, name, "wrong", f"10.3.{len(name)}.{i}")
                            .status_code))
    known = [s for n, s in answers if n == "login-known"]
    unknown = [s for n, s in answers if n != "login-known"]
    assert known == unknown == [401] * 5 + [429]


def test_a_success_clears_the_accounts_failures(env):
    server, runtime = env
    runtime.auth.add_user("login-forgetful", role=Role.LEADER, password="remembered-now")
    for _ in range(4):
        _attempt(server, "login-forgetful", "wrong", "10.4.0.1")
    assert _attempt(server, "login-forgetful", "remembered-now", "10.4.0.2").status_code == 302
    for _ in range(4):
        assert _attempt(server, "login-forgetful", "wrong", "10.4.0.3").status_code == 401


def test_disabling_or_removing_an_account_ends_its_sessions(env, redis_server, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main

    server, runtime = env
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    runner = CliRunner()
    for name in ("login-leaver", "login-removed"):
        runtime.auth.add_user(name, role=Role.LEADER, password="leaving-soon")
    clients = {}
    for name in ("login-leaver", "login-removed"):
        clients[name] = server.test_client()
        clients[name].post("/login", data={"username": name, "password": "leaving-soon",
                                           "csrf": _form_csrf(clients[name])})
        assert _signed_in(clients[name])
    listed = runner.invoke(main, ["users", "list"])
    assert "login-leaver" in listed.output and "password" not in listed.output
    assert runner.invoke(main, ["users", "disable", "login-leaver"]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "login-removed"]).exit_code == 0
    assert not _signed_in(clients["login-leaver"]) and not _signed_in(clients["login-removed"])
    again = _attempt(server, "login-leaver", "leaving-soon", "10.5.0.1")
    assert again.status_code == 401 and "disabled" in again.text
    assert runner.invoke(main, ["users", "disable", "login-leaver", "--enable"]).exit_code == 0
    assert _attempt(server, "login-leaver", "leaving-soon", "10.5.0.1").status_code == 302
    missing = runner.invoke(main, ["users", "remove", "login-nobody"])
    assert missing.exit_code != 0 and "no user 'login-nobody'" in missing.output


def _sign_in(server, name: str = USER, password: str = PASSWORD):
    client = server.test_client()
    resp = client.post("/login", data={"username": name, "password": password,
                                       "csrf": _form_csrf(client)})
    assert resp.status_code == 302 and _signed_in(client)
    return client


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_the_session_lives_in_redis_and_the_cookie_is_only_its_id(env):
    from dispatch.store import keys

    server, runtime = env
    sid = _cookie(_sign_in(server))
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", sid), "a random id, no data and no signature"
    assert runtime.store.events._r.exists(keys.session(sid))
    assert sid in runtime.store.events._r.smembers(keys.user_sessions(USER))


def test_a_cookie_copied_before_logout_is_worthless_after_it(env):
    server, _ = env
    client = _sign_in(server)
    copied = _cookie(client)
    assert client.post("/logout").status_code == 302
    thief = server.test_client()
    thief.set_cookie("session", copied)
    assert not _signed_in(thief)


def test_signing_in_gives_a_new_session_id(env):
    server, _ = env
    first = _cookie(_sign_in(server))
    assert first != _cookie(_sign_in(server))


def test_an_administrator_signs_a_person_out_everywhere(env, redis_server, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main

    server, runtime = env
    runtime.auth.add_user("login-two-screens", role=Role.LEADER, password="two-screens")
    screens = [_sign_in(server, "login-two-screens", "two-screens") for _ in range(2)]
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    result = CliRunner().invoke(main, ["users", "sign-out", "login-two-screens"])
    assert result.exit_code == 0 and "2 session(s) ended" in result.output, result.output
    assert not any(_signed_in(s) for s in screens)
    assert _sign_in(server, "login-two-screens", "two-screens")  # may sign in again
    trail = [r for r in runtime.audit.export(since=0, changes=False)
             if r["target"] == "login-two-screens" and r["field"] == "account"]
    assert trail and trail[-1]["action"] == "account.change"


def test_a_stale_or_foreign_form_token_does_not_sign_in(env):
    server, _ = env
    client = server.test_client()
    token = _form_csrf(client)
    other = server.test_client()
    resp = other.post("/login", data={"username": USER, "password": PASSWORD, "csrf": token})
    assert resp.status_code == 401 and not _signed_in(other), "the token without its cookie"
    client.set_cookie("login_csrf", "forged", path="/login")
    resp = client.post("/login", data={"username": USER, "password": PASSWORD,
                                       "csrf": "forged"})
    assert resp.status_code == 401 and not _signed_in(client), "a token we did not sign"


def test_a_write_from_another_sites_page_is_refused_by_its_origin(env):
    server, _ = env
    client = _sign_in(server)
    evil = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403 and evil.get_json()["field"] == "Origin"
    assert _signed_in(client)
    ours = client.post("/logout", headers={"Origin": "http://localhost"})
    assert ours.status_code == 302 and not _signed_in(client)
