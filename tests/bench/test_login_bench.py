"""The sign-in benchmark on small numbers: its JSON, and lockouts at the configured limits
(timing figures are printed by the bench, not checked here)."""

from __future__ import annotations

from bench.login import run
from dashboard.settings import Settings
from dispatch.access.lockout import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW_S


def test_bench_login_runs_end_to_end(demo_grids, cache_dir):
    figures = run(Settings(cache_dir=cache_dir), attempts=3, seconds=0)
    assert figures["benchmark"] == "login"
    assert figures["limits"] == {"account": ACCOUNT_LIMIT, "address": ADDRESS_LIMIT,
                                 "window_s": WINDOW_S}
    for kind, limit in (("account", ACCOUNT_LIMIT), ("address", ADDRESS_LIMIT)):
        phase = figures["lockout"][kind]
        assert phase["accepted"] == phase["accepted_per_minute"] == limit, phase
        assert phase["attempts"] == limit + 3 and phase["refused_429"] == 3
        assert phase["by_status"] == {"401": limit, "429": 3}
        assert 0 < phase["retry_after_s"] <= WINDOW_S
        assert phase["right_password_while_locked"] == {"status": 429, "signed_in": False}
    timing = figures["timing"]
    assert timing["attempts_each"] == 3 and timing["by_status"] == {"401": 6}
    for side in ("known_user_wrong_password_ms", "unknown_user_ms"):
        assert set(timing[side]) == {"median", "p95"}
    assert {"median_difference_ms", "p95_difference_ms", "target_ms",
            "within_target"} <= set(timing)
    baseline = figures["baseline_without_decoy"]
    assert baseline["attempts_each"] == 3 and baseline["password_hash"]
    assert {"check_password_hash_ms", "dict_miss_ms", "median_difference_ms"} <= set(baseline)
