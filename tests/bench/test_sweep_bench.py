"""The sweep benchmark on one micro-grid: its JSON is complete, every household the server took
is held by the drill, and every batch reached the coordinator's screen (timing figures are
printed by the bench, not checked)."""

from __future__ import annotations

from bench.sweep import run
from dashboard.settings import Settings
from geo.model import Tier


def test_bench_sweep_runs_end_to_end(demo_grids, cache_dir):
    micro = str(demo_grids.tier(Tier.MICRO)["code"].iloc[0])
    figures = run(Settings(cache_dir=cache_dir), scope=micro, speed=60, connections=2,
                  workers=1, threads=4, whole_base=False, flood=200)
    assert figures["benchmark"] == "sweep" and figures["micro_grids"] == 1
    http = figures["http_api"]
    assert http["households_accepted"] == figures["households_planned"] > 0
    assert http["households_lost"] == 0 and set(http["by_status"]) == {"201"}
    screen = figures["screen"]
    assert screen["shown"] == screen["batches_accepted"] == http["batches"]
    assert screen["missing"] == 0 and screen["micro_grids_coloured"] == 1
    assert screen["p99_ms"] is not None and screen["p99_ms"] >= screen["p50_ms"]
    assert figures["raw_pipelined_writes"]["households"] == figures["households_planned"]
    flood = figures["http_api_unpaced"]
    assert flood["households"] == figures["households_planned"]  # fewer than 200 in one grid
    assert set(flood["by_status"]) == {"201"} and flood["households_per_s"] > 0
    assert figures["memory"]["redis_used_memory_mb"] > 0
    assert figures["memory"]["api_server_rss_mb"] > 0
