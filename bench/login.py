"""bench login: what password guessing gets from the sign-in form, over HTTP, on a real server.

Two figures, each beside what it is measured against:

- Lockout: wrong passwords posted as fast as one client can for ``seconds`` (at least past the
  limit), first at one account from one address, then at a new name each time from one
  address. Counted: the attempts the form still judged (401) rather than refused (429), those
  made in the first minute, the ``Retry-After`` given, and whether the right password is
  refused while the lock holds. Beside them, the limits the server is configured with.
- Timing: a wrong password for a known user against any password for an unknown one,
  alternating in a random order, each attempt timed at the client; median and p95 of each and
  their difference. Failure counters are cleared through the store between pairs, so no
  answer is a lock. Beside it, the same run's naive baseline: a password hash check against a
  dictionary miss, in this process, which is the difference an attacker would see without the
  decoy hash the server checks an unknown name against.

Every attempt comes from this machine, so the server sees one address; the address phase
tries a new name each time, so the account limit never applies there.
"""

from __future__ import annotations

import os
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import count

import numpy as np
import requests
from werkzeug.security import check_password_hash, generate_password_hash

from bench.harness import running_server
from dispatch.access.credentials import Auth
from dispatch.access.lockout import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_S
from dispatch.access.roles import Role
from dispatch.store import Store

TARGET_MS = 5.0
#: Names of one length, so the page echoing the name back costs both kinds the same.
KNOWN, UNKNOWN = "bench-known-user", "bench-nobody-usr"
LOCKED = "bench-lock-user0"
WRONG = "wrong-password-1"
WARMUP = 5


def run(settings, *, attempts: int, seconds: float, seed: int = 5) -> dict:
    """``attempts`` timed sign-ins of each kind; each lockout phase guesses for ``seconds``."""
    password = secrets.token_urlsafe(16)
    with running_server(settings, fsync="always") as (base, redis_server, _token, _pid):
        store = Store.from_url(redis_server.url)
        try:
            auth = Auth(store.auth)
            for name in (KNOWN, LOCKED):
                auth.add_user(name, role=Role.OPERATOR, password=password)
            failures = store.sign_in_failures
            failures.clear_all()
            account = _lockout(_Form(base), lambda: LOCKED, seconds=seconds,
                               minimum=ACCOUNT_LIMIT + 3, right=(LOCKED, password))
            failures.clear_all()
            address = _lockout(_Form(base), _names("bench-guess-").__next__, seconds=seconds,
                               minimum=ADDRESS_LIMIT + 3, right=(KNOWN, password))
            failures.clear_all()
            timing = _timing(_Form(base), attempts, clear=failures.clear_all,
                             rng=random.Random(seed))
        finally:
            store.close()
    return {"benchmark": "login",
            "limits": {"account": ACCOUNT_LIMIT, "address": ADDRESS_LIMIT,
                       "window_s": WINDOW_S},
            "lockout": {"account": account, "address": address},
            "timing": timing,
            "baseline_without_decoy": _baseline(attempts, password),
            "cpu_count": os.cpu_count()}


class _Form:
    """One browser at the sign-in form: its session cookie and the form's CSRF token."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._http = requests.Session()
        page = self._http.get(f"{base}/login", timeout=30)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        if not found:
            raise RuntimeError("the sign-in page carries no CSRF field")
        self._csrf = found[1]

    def post(self, user: str, password: str) -> requests.Response:
        return self._http.post(f"{self._base}/login", timeout=30, allow_redirects=False,
                               data={"username": user, "password": password,
                                     "csrf": self._csrf})


def _lockout(form: _Form, name: Callable[[], str], *, seconds: float, minimum: int,
             right: tuple[str, str]) -> dict:
    """Wrong passwords for ``seconds`` (at least ``minimum`` of them), then the right one."""
    statuses: list[tuple[float, int]] = []
    retry_after: int | None = None
    started = time.monotonic()
    while len(statuses) < minimum or time.monotonic() - started < seconds:
        at = time.monotonic() - started
        resp = form.post(name(), WRONG)
        statuses.append((at, resp.status_code))
        if resp.status_code == 429 and retry_after is None:
            retry_after = int(resp.headers["Retry-After"])
    elapsed = time.monotonic() - started
    judged = [at for at, status in statuses if status != 429]
    locked = form.post(*right)
    return {"attempts": len(statuses), "seconds": round(elapsed, 2),
            "accepted": len(judged),
            "accepted_per_minute": sum(1 for at in judged if at < 60),
            "minute_measured_s": round(min(elapsed, 60.0), 2),
            "refused_429": len(statuses) - len(judged),
            "by_status": {str(k): v for k, v in sorted(Counter(s for _, s in statuses).items())},
            "retry_after_s": retry_after,
            "right_password_while_locked": {"status": locked.status_code,
                                            "signed_in": locked.status_code == 302}}


def _timing(form: _Form, attempts: int, *, clear: Callable[[], int],
            rng: random.Random) -> dict:
    """Alternating known-wrong and unknown sign-ins, cleared of failures before each pair."""
    times: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
    statuses: Counter[int] = Counter()
    for i in range(WARMUP + attempts):
        clear()
        pair = [KNOWN, UNKNOWN]
        rng.shuffle(pair)
        for user in pair:
            started = time.perf_counter()
            resp = form.post(user, WRONG)
            took = (time.perf_counter() - started) * 1000
            if i >= WARMUP:
                times[user].append(took)
                statuses[resp.status_code] += 1
    known, unknown = _stats(times[KNOWN]), _stats(times[UNKNOWN])
    diff = known["median"] - unknown["median"]
    return {"attempts_each": attempts,
            "known_user_wrong_password_ms": known, "unknown_user_ms": unknown,
            "median_difference_ms": round(diff, 3),
            "p95_difference_ms": round(known["p95"] - unknown["p95"], 3),
            "target_ms": TARGET_MS, "within_target": abs(diff) <= TARGET_MS,
            "by_status": {str(k): v for k, v in sorted(statuses.items())}}


def _baseline(attempts: int, password: str) -> dict:
    """The same two refusals without the decoy: a hash check for a known name, a dict miss for
    an unknown one (what a form that skips the hash for unknown names would do)."""
    stored = generate_password_hash(password)
    accounts = {KNOWN: stored}
    known, unknown = [], []
    for _ in range(WARMUP + attempts):
        started = time.perf_counter()
        check_password_hash(accounts[KNOWN], WRONG)
        known.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        _ = accounts.get(UNKNOWN) is None
        unknown.append((time.perf_counter() - started) * 1000)
    hashed, missed = _stats(known[WARMUP:]), _stats(unknown[WARMUP:])
    return {"attempts_each": attempts, "password_hash": stored.split("$", 1)[0],
            "check_password_hash_ms": hashed, "dict_miss_ms": missed,
            "median_difference_ms": round(hashed["median"] - missed["median"], 3)}


def _stats(values: list[float]) -> dict[str, float]:
    data = np.asarray(values)
    return {"median": round(float(np.median(data)), 3),
            "p95": round(float(np.percentile(data, 95)), 3)}


def _names(prefix: str) -> Iterator[str]:
    """A new name for every guess, so no one account reaches its limit."""
    for i in count():
        yield f"{prefix}{i:05d}"
