"""A muster's figures from hand-made streams: every number checked against what was made."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from dispatch.drills.figures import figures, muster_figures
from geo.grids import GridSet
from tests.dispatch.drills.stream_factory import (
    GEN_A1,
    GEN_A2,
    GEN_B1,
    MICRO_A1,
    MICRO_A2,
    MICRO_A3,
    MICRO_B1,
    START_AT,
    STREET_A,
    STREET_B,
    Stream,
)

TEN = [[f"w{i}", (MICRO_A1, MICRO_A2, MICRO_A3, MICRO_B1)[i % 4], 0, "grid_worker",
        "一队" if i < 5 else "二队"] for i in range(10)]


def _ten(**kw) -> Stream:
    return Stream(participants=TEN, **kw).start(0)


def test_times_to_half_most_and_all_are_the_arrivals_that_made_them():
    s = _ten()
    for i in range(10):
        s.arrive(f"w{i}", 60.0 * (i + 1))
    f = muster_figures(s.finish(700).entries)
    assert (f["t50"], f["t80"], f["t100"]) == (300.0, 480.0, 600.0)
    assert (f["total"], f["reached"], f["share"]) == (10, 10, 1.0)
    assert f["curve"] == [[0.0, 0], *[[60.0 * (i + 1), i + 1] for i in range(10)]]


def test_shares_never_made_have_no_time():
    s = _ten()
    for i in range(4):
        s.arrive(f"w{i}", 100.0 + i)
    f = muster_figures(s.entries)
    assert (f["t50"], f["t80"], f["t100"]) == (None, None, None)
    assert f["reached"] == 4 and f["share"] == 0.4


def test_half_of_an_odd_number_rounds_up():
    people = TEN[:3]
    s = Stream(participants=people).start(0).arrive("w0", 10).arrive("w1", 20)
    f = muster_figures(s.entries)
    assert f["t50"] == 20.0  # 2 of 3 is the first count at or over half


def test_an_arrival_exactly_at_the_target_is_within_it():
    s = Stream(participants=TEN[:2], target_s=900).start(0).arrive("w0", 100).arrive("w1", 900)
    f = muster_figures(s.finish(1000).entries)
    assert f["within_target"] == 2 and f["passed"] is True and f["late"] == []


def test_a_moment_after_the_target_is_late_and_fails():
    s = Stream(participants=TEN[:2], target_s=900).start(0).arrive("w0", 100)
    s.arrive("w1", 900.001)
    f = muster_figures(s.finish(1000).entries)
    assert f["within_target"] == 1 and f["passed"] is False
    assert f["late"] == [["w1", 900.001]] and f["late_count"] == 1 and f["missing"] == []


@pytest.mark.parametrize(("on_time", "passed"), [(8, True), (7, False)])
def test_pass_share_is_met_at_exactly_the_share(on_time, passed):
    s = _ten(pass_share=0.8)
    for i in range(10):
        s.arrive(f"w{i}", 100.0 + i if i < on_time else 1000.0 + i)
    f = muster_figures(s.finish(1200).entries)
    assert f["within_target"] == on_time and f["within_share"] == on_time / 10
    assert f["passed"] is passed


def test_late_and_missing_are_told_apart_with_last_status():
    s = _ten()
    for i in range(6):
        s.arrive(f"w{i}", 100.0 * (i + 1))  # w0..w5: 100..600 s, all within 15 min
    s.arrive("w6", 950).arrive("w7", 1000)
    s.step("w8", "acknowledged", 30).step("w8", "en_route", 60, before="acknowledged")
    f = muster_figures(s.finish(1200).entries)
    assert f["late"] == [["w6", 950.0], ["w7", 1000.0]]
    assert f["missing"] == [["w8", "en_route"], ["w9", "notified"]]
    assert (f["late_count"], f["missing_count"]) == (2, 2)
    assert f["status_counts"] == {"notified": 1, "acknowledged": 0, "en_route": 1,
                                  "arrived": 8}


def test_arrivals_by_fence_and_by_coordinator_are_counted_apart():
    s = _ten().arrive("w0", 10).arrive("w1", 20, how="override", reason="定位失灵")
    s.arrive("w2", 30, how="override", reason="手机没电").arrive("w3", 40, how="")
    f = muster_figures(s.entries)
    assert f["by_how"] == {"geofence": 1, "override": 2, "other": 1}
    assert f["overrides"] == [["w1", 20.0, "定位失灵"], ["w2", 30.0, "手机没电"]]


def test_a_second_arrival_and_an_uncalled_worker_change_nothing():
    s = _ten().arrive("w0", 10).arrive("w0", 500).arrive("stranger", 20)
    f = muster_figures(s.entries)
    assert f["reached"] == 1 and f["curve"] == [[0.0, 0], [10.0, 1]]


def test_a_pause_costs_no_time_because_t_is_drill_time():
    s = Stream(participants=TEN[:1], target_s=900).start(0)
    s.pause(300, wall_s=600).resume(300).arrive("w0", 850).finish(900)
    f = muster_figures(s.entries)
    assert f["passed"] is True and f["t100"] == 850.0
    arrival = next(row for row in f["timeline"] if row["what"] == "reached_100")
    assert arrival["at"] - START_AT == pytest.approx(850 + 600)  # the wall clock ran on


def test_timeline_lists_moves_and_moments_in_drill_time():
    s = _ten()
    for i in range(10):
        s.arrive(f"w{i}", 60.0 * (i + 1))
    s.pause(200).resume(200)
    f = muster_figures(s.finish(700).entries)
    whats = [(row["what"], row["t"]) for row in f["timeline"]]
    assert whats == [("planned", 0.0), ("start", 0.0), ("pause", 200.0), ("resume", 200.0),
                     ("reached_50", 300.0), ("reached_80", 480.0), ("reached_100", 600.0),
                     ("finish", 700.0)]
    assert f["status"] == "finished" and f["ended_t"] == 700.0


def test_aborted_drill_is_over():
    f = muster_figures(_ten().arrive("w0", 5).abort(60).entries)
    assert f["status"] == "aborted" and f["ended_t"] == 60.0 and f["projected_t"] is None


def test_projection_follows_the_recent_rate_while_running():
    s = _ten()
    for i in range(5):
        s.arrive(f"w{i}", 60.0 * (i + 1))  # 60..300; the last 180 s held three arrivals
    f = muster_figures(s.entries)
    assert f["status"] == "running"
    assert f["projected_t"] == pytest.approx(300 + 5 * 180 / 3)
    assert muster_figures(s.finish(320).entries)["projected_t"] is None
    assert muster_figures(_ten().step("w0", "acknowledged", 30).entries)["projected_t"] is None


def test_breakdowns_are_per_street_community_grid_team_and_point_worst_first():
    s = _ten()
    for i in range(10):
        if i % 4 != 3:  # everyone in street B (MICRO_B1) stays away
            s.arrive(f"w{i}", 100.0 + i if i < 5 else 950.0 + i)
    b = muster_figures(s.finish(1200).entries)["breakdowns"]
    assert [(r["code"], r["total"], r["reached"], r["within_target"]) for r in b["street"]] == [
        (STREET_B, 2, 0, 0), (STREET_A, 8, 8, 4)]
    assert b["street"][0]["name"] == "犀浦街道" and b["street"][1]["name"] == "郫筒街道"
    assert [r["code"] for r in b["grid"]] == [GEN_B1, GEN_A1, GEN_A2]  # ties: bigger first
    assert {r["code"]: r["total"] for r in b["community"]} == {STREET_A + "00100": 8,
                                                              STREET_B + "00300": 2}
    teams = {r["code"]: (r["total"], r["reached"], r["within_target"]) for r in b["team"]}
    assert teams == {"一队": (5, 4, 4), "二队": (5, 4, 0)}
    assert [r["name"] for r in b["team"]] == ["二队", "一队"]
    assert b["point"] == [{"level": "point", "code": "0", "name": "社区广场", "total": 10,
                           "reached": 8, "share": 0.8, "within_target": 4,
                           "within_share": 0.4, "missing": 2}]


def test_grid_names_come_from_a_grid_set_when_given():
    rows = [(STREET_A + "00100", "望丛社区", "total", ""), (GEN_A1, "一网格", "general",
                                                          STREET_A + "00100")]
    frame = gpd.GeoDataFrame(
        [{"code": c, "name": n, "tier": t, "parent_code": p, "households": 1, "residents": 1,
          "geometry": shapely.box(103.9, 30.8, 103.91, 30.81)} for c, n, t, p in rows],
        crs=4326)
    grids = GridSet.from_frame(frame, synthetic=True, source="test")
    b = muster_figures(_ten().entries, grids=grids)["breakdowns"]
    assert {r["code"]: r["name"] for r in b["community"]}[STREET_A + "00100"] == "望丛社区"
    names = {r["code"]: r["name"] for r in b["grid"]}
    assert names[GEN_A1] == "一网格" and names[GEN_A2] == ""  # not in the set: code only


def test_figures_dispatches_on_the_kind():
    s = _ten().arrive("w0", 10)
    assert figures(s.entries) == muster_figures(s.entries)
    assert figures(s.entries)["kind"] == "muster"
