"""A sweep's figures from a hand-made stream: first reports count once, the last status wins."""

from __future__ import annotations

import pytest

from dispatch.drills.figures import figures, sweep_figures
from tests.dispatch.drills.stream_factory import (
    MICRO_A1,
    MICRO_A2,
    MICRO_B1,
    START_AT,
    STREET_A,
    STREET_B,
    Stream,
    household,
)

A1 = [household(MICRO_A1, 1, n) for n in range(1, 5)]
A2 = [household(MICRO_A2, 1, n) for n in range(1, 4)]
B1 = [household(MICRO_B1, 1, n) for n in range(1, 4)]
PLAN = {MICRO_A1: 4, MICRO_A2: 3, MICRO_B1: 3}


def _sweep(pass_share: float = 0.8, finish: bool = True) -> Stream:
    s = Stream("sweep", households=PLAN, priority={MICRO_A1: 1, MICRO_B1: 1},
               pass_share=pass_share).start(0)
    s.report("w1", 60, [[A1[0], "safe"], [A1[1], "safe"]])
    s.report("w1", 120, [[A1[2], "not_home"], [A1[0], "needs_help"]])
    s.help(A1[0], "E-1", 125)
    s.report("w2", 200, [[B1[0], "vacant"], [B1[1], "safe"]])
    s.report("w2", 300, [[A2[0], "safe"], [A2[1], "safe"]])
    s.report("w1", 900, [[A1[3], "safe"]])  # exactly at the target: within it
    s.report("w2", 901, [[A2[2], "safe"]])
    s.report("w1", 950, [[A1[2], "safe"]])  # came home: a new status, not a new visit
    s.slots(960, [[A1[0][:20], "核酸检测", "2024-05-01T10:00", "2024-05-01T10:30", "广场"],
                  [B1[0][:20], "核酸检测", "2024-05-01T10:30", "2024-05-01T11:00", "广场"]])
    return s.finish(1000) if finish else s


def test_headline_numbers():
    f = sweep_figures(_sweep().entries)
    assert (f["total"], f["reached"], f["share"]) == (10, 9, 0.9)
    assert (f["t50"], f["t80"], f["t100"]) == (200.0, 900.0, None)
    assert (f["within_target"], f["late_count"], f["missing_count"]) == (8, 1, 1)
    assert f["curve"] == [[0.0, 0], [60.0, 2], [120.0, 3], [200.0, 5], [300.0, 7],
                          [900.0, 8], [901.0, 9]]
    assert (f["workers"], f["slots"], f["kind"], f["status"]) == (2, 2, "sweep", "finished")


@pytest.mark.parametrize(("pass_share", "passed"), [(0.8, True), (0.81, False), (1.0, False)])
def test_pass_against_the_share_within_target(pass_share, passed):
    assert sweep_figures(_sweep(pass_share).entries)["passed"] is passed


def test_a_repeated_household_counts_once_with_its_last_status():
    f = sweep_figures(_sweep().entries)
    assert f["status_counts"] == {"safe": 7, "needs_help": 1, "not_home": 0, "vacant": 1}
    assert sum(f["status_counts"].values()) == f["reached"]


def test_late_households_and_missing_per_micro_grid():
    f = sweep_figures(_sweep().entries)
    assert f["late"] == [[A2[2], 901.0]]
    assert f["missing"] == [[MICRO_B1, 1]]


def test_help_events_raised():
    f = sweep_figures(_sweep().entries)
    assert f["help"] == [[A1[0], "E-1", 125.0]] and f["help_count"] == 1


def test_special_population_coverage_from_the_resident_base_ids():
    outside = household("51011710100101001", 1, 1)  # not in the sweep's scope
    f = sweep_figures(_sweep().entries, priority_ids={A1[1], B1[2], outside})
    assert f["special"] == {"known": True, "total": 2, "reached": 1, "share": 0.5,
                            "within_target": 1, "within_share": 0.5, "missing": [B1[2]]}


def test_special_population_without_ids_gives_only_the_planned_count():
    f = sweep_figures(_sweep().entries)
    assert f["special"]["known"] is False and f["special"]["total"] == 2
    assert f["special"]["reached"] is None and f["special"]["missing"] is None


def test_special_reached_late_is_not_within_target():
    f = sweep_figures(_sweep().entries, priority_ids={A2[2]})
    assert (f["special"]["reached"], f["special"]["within_target"]) == (1, 0)


def test_breakdowns_per_micro_grid_worst_first():
    b = sweep_figures(_sweep().entries)["breakdowns"]
    micro = [(r["code"], r["total"], r["reached"], r["within_target"]) for r in b["micro"]]
    assert micro == [(MICRO_B1, 3, 2, 2), (MICRO_A2, 3, 3, 2), (MICRO_A1, 4, 4, 4)]
    street = [(r["code"], r["total"], r["reached"], r["within_target"]) for r in b["street"]]
    assert street == [(STREET_B, 3, 2, 2), (STREET_A, 7, 7, 6)]
    assert [r["total"] for r in b["community"]] == [3, 7]
    assert {r["code"] for r in b["grid"]} == {MICRO_A1[:14], MICRO_B1[:14]}


def test_a_micro_grid_reporting_more_than_planned_counts_what_was_reported():
    s = Stream("sweep", households={MICRO_A1: 1}).start(0)
    s.report("w1", 10, [[A1[0], "safe"], [A1[1], "safe"]])
    f = sweep_figures(s.entries)
    assert (f["total"], f["reached"], f["t100"]) == (2, 2, 10.0)


def test_a_pause_costs_no_time_because_t_is_drill_time():
    s = Stream("sweep", households={MICRO_A1: 2}, pass_share=1.0).start(0)
    s.report("w1", 100, [[A1[0], "safe"]]).pause(100, wall_s=3600).resume(100)
    s.report("w1", 880, [[A1[1], "safe"]]).finish(890)
    f = sweep_figures(s.entries)
    assert f["passed"] is True and f["t100"] == 880.0
    reached = next(row for row in f["timeline"] if row["what"] == "reached_100")
    assert reached["at"] - START_AT == pytest.approx(880 + 3600)  # the wall clock ran on


def test_projection_while_running_and_none_once_finished():
    running = sweep_figures(_sweep(finish=False).entries)
    # last entry at 960 s: in the 180 s before it, two households were first reached
    assert running["projected_t"] == pytest.approx(960 + 1 * 180 / 2)
    assert sweep_figures(_sweep().entries)["projected_t"] is None


def test_figures_dispatches_on_the_kind():
    s = _sweep()
    assert figures(s.entries, priority_ids={A1[1]}) == sweep_figures(s.entries,
                                                                     priority_ids={A1[1]})
