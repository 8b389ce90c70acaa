"""The assign benchmark on small numbers: its JSON is complete, the baselines ran, and one
contender won each contended event (timing figures are printed by the bench, not checked)."""

from __future__ import annotations

from bench.assign import run
from dashboard.settings import Settings

TAIL = {"p50_ms", "p99_ms", "max_ms"}


def test_bench_assign_runs_end_to_end(demo_grids, cache_dir):
    figures = run(Settings(cache_dir=cache_dir), seconds=0.5, naive_samples=2,
                  assignments=200, threads=4, contenders=4, contended_events=5)
    assert figures["benchmark"] == "assign" and figures["workers"] == 7461

    recommend = figures["recommend"]
    assert recommend.keys() >= TAIL | {"samples", "target_p99_ms", "within_target"}
    assert recommend["samples"] >= 20 and recommend["candidates_returned_mean"] > 0
    naive = figures["naive_full_scan"]
    assert naive.keys() >= TAIL and naive["samples"] == 2
    assert naive["workers_ranked"] == 7461
    assert 0 <= naive["same_first_choice_as_recommend"] <= 2
    assert figures["p99_ratio_naive_to_recommend"] > 0

    moved = figures["position_updates"]
    assert moved["reports"] > 0 and moved["stored"] == moved["reports"]
    assert moved["target_per_s"] == 746.1 and moved["achieved_per_s"] > 0

    assign = figures["assign"]
    assert (assign["assignments"], assign["succeeded"], assign["failed"]) == (100, 100, {})
    assert assign["per_s"] > 0
    batched = figures["assign_pipelined"]
    assert (batched["assignments"], batched["succeeded"], batched["failed"]) == (100, 100, {})
    assert batched["per_s"] > 0 and batched["target_per_s"] == 5000
    plain = figures["naive_plain_writes"]
    assert plain["assignments"] == 200 and plain["per_s"] > 0

    contended = figures["contended"]
    assert contended["events"] == 5 and contended["contenders"] == 4
    assert contended["winners_per_event"] == {"1": 5}
    assert contended["exactly_one_winner_every_time"]
    assert contended["refused_taken"] == 5 * 3 and contended["other_answers"] == 0
    assert contended["one_open_task_stored_per_event"]


def test_the_bench_writes_what_the_service_would(demo_grids):
    """The store write is the service's: dispatched through registered, with its clock."""
    from bench.assign import new_task

    h = {"id": "E1", "status": "reported", "category": "05002", "severity": "routine",
         "street": "510117001", "micro": "m", "general": "g", "total": "t"}
    task = new_task(h, "W1", now=1000.0)
    assert [(m.expected, m.target) for m in task.moves] == [("reported", "registered"),
                                                            ("registered", "dispatched")]
    assert task.status == "assigned" and task.accept_due > task.now
    assert task.fields["micro"] == "m" and task.street == "510117001"
