"""The positions benchmark on small numbers: its JSON is complete, every report was accepted,
and reports reached the operator's screen (timing figures are printed by the bench, not
checked)."""

from __future__ import annotations

from bench.positions import run
from dashboard.settings import Settings


def test_bench_positions_runs_end_to_end(demo_grids, cache_dir):
    figures = run(Settings(cache_dir=cache_dir), seconds=1.0, rate=200, reports=400,
                  connections=4, workers=1, threads=4)
    assert figures["benchmark"] == "positions" and figures["workers"] == 7461
    assert figures["api_server"] == "grid-dispatch http --workers 1 --threads 4"

    marker = figures["map_marker"]
    assert marker["by_status"] == {"202": marker["reports_stored"]}
    assert marker["reports_stored"] > 0 and marker["shown"] > 0
    assert marker["shown"] + marker["missing"] == marker["reports_stored"]
    assert marker["positions_messages"] > 0
    assert marker["p50_ms"] is not None and marker["p99_ms"] >= marker["p50_ms"]
    assert {"target_rate_per_s", "achieved_rate_per_s", "target_p99_ms",
            "within_target"} <= marker.keys()

    http = figures["http_api"]
    assert (http["reports"], http["accepted"]) == (400, 400)
    assert http["by_status"] == {"202": 400} and http["accepted_per_s"] > 0
    direct = figures["direct_put_many"]
    assert (direct["reports"], direct["stored"]) == (400, 400) and direct["per_s"] > 0
    assert figures["ratio_http_to_direct"] > 0
