"""The after-action report: one page that opens offline with every text escaped, and CSV files
that read back to the same figures."""

from __future__ import annotations

import csv
import json
import math
import re

import pytest

from dispatch.drills.replay import Replay
from dispatch.drills.report import write_report
from dispatch.drills.tables import read_figures
from tests.dispatch.drills.stream_factory import MICRO_A1, MICRO_A2, MICRO_B1, Stream, household

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _muster() -> Stream:
    people = [[HOSTILE, MICRO_A1, 0, "grid_worker", HOSTILE],
              ["w2", MICRO_A2, 0, "grid_worker", "一队"], ["w3", MICRO_B1, 0, "volunteer", ""]]
    s = Stream(participants=people, title="=集结" + HOSTILE).start(0)
    s.step("w3", "acknowledged", 40).arrive(HOSTILE, 100)
    s.arrive("w2", 950, how="override", reason="信号差")
    return s.finish(1000)


def _sweep() -> Stream:
    s = Stream("sweep", households={MICRO_A1: 3, MICRO_B1: 2}, title="摸排").start(0)
    s.report("w1", 30, [[household(MICRO_A1, 1, 1), "safe"], [household(MICRO_A1, 1, 2), "safe"]])
    s.report("w1", 95, [[household(MICRO_A1, 1, 1), "needs_help"]])
    s.help(household(MICRO_A1, 1, 1), "E-1", 96)
    s.report("w2", 930, [[household(MICRO_B1, 1, 1), "not_home"]])
    return s.finish(990)


@pytest.fixture
def muster_report(tmp_path):
    out = write_report(_muster().entries, tmp_path)
    return out, out["paths"]["report"].read_text(encoding="utf-8")


def test_the_files_written(muster_report, tmp_path):
    out, _ = muster_report
    assert set(out["paths"]) == {"report", "figures", "breakdown", "people"}
    assert all(p.exists() and p.parent == tmp_path for p in out["paths"].values())
    assert out["figures"]["kind"] == "muster" and out["figures"]["reached"] == 2


def test_the_page_asks_the_network_for_nothing(muster_report):
    _, html = muster_report
    assert not re.search(r"""(src|href|action|data)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert "default-src 'none'" in html  # and the page forbids it should anything slip in


def test_hostile_ids_and_names_are_escaped(muster_report):
    _, html = muster_report
    assert HOSTILE not in html
    assert ESCAPED in html
    assert html.count("<script") == 2  # the replay's data and its scrubber, nothing else


def test_the_page_shows_verdict_figures_and_watermark(muster_report):
    _, html = muster_report
    assert "未通过" in html and "FAIL" in html and "演练 DRILL" in html
    assert "信号差" not in html  # coordinators' free text stays out of the page
    assert html.index("关键指标") < html.index("Key figures")  # Chinese first
    for text in ("累计曲线", "<svg", "分组情况", "超时", "未到", "时间线", "回放", "15:00"):
        assert text in html, text


def test_the_embedded_replay_is_the_state_at_each_minute(muster_report):
    out, html = muster_report
    raw = re.search(r'<script type="application/json" id="replay-data">(.*?)</script>', html, re.S)
    frames = json.loads(raw[1])["frames"]
    assert [f["m"] for f in frames] == list(range(math.ceil(1000 / 60) + 1))
    replay = Replay(_muster().entries)
    for frame in frames:
        state = replay.at(frame["m"] * 60)
        assert (frame["reached"], frame["counts"]) == (state["arrived"], state["counts"])
    assert frames[-1]["reached"] == out["figures"]["reached"]


def _scalars(figs):
    for name, value in figs.items():
        if isinstance(value, dict):
            for part, v in value.items():
                if not isinstance(v, list | dict):
                    yield f"{name}.{part}", v
        elif not isinstance(value, list):
            yield name, value


def test_figures_csv_reads_back_to_the_figures(muster_report):
    out, _ = muster_report
    assert read_figures(out["paths"]["figures"]) == dict(_scalars(out["figures"]))


def test_a_formula_looking_title_is_guarded_in_the_file(muster_report):
    out, _ = muster_report
    text = out["paths"]["figures"].read_text(encoding="utf-8")
    assert "'=集结" in text and read_figures(out["paths"]["figures"])["title"].startswith("=")


def _rows(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_breakdown_csv_holds_every_group(muster_report):
    out, _ = muster_report
    rows = _rows(out["paths"]["breakdown"])
    expected = [r for level in out["figures"]["breakdowns"].values() for r in level]
    assert len(rows) == len(expected)
    for row, want in zip(rows, expected, strict=True):
        assert (row["level"], row["code"], row["name"]) == (want["level"], want["code"],
                                                            want["name"])
        assert (int(row["total"]), int(row["reached"]), float(row["share"]),
                int(row["within_target"])) == (want["total"], want["reached"], want["share"],
                                               want["within_target"])


def test_people_csv_has_ids_and_outcomes_only(muster_report):
    out, _ = muster_report
    rows = _rows(out["paths"]["people"])
    assert list(rows[0]) == ["worker", "status", "arrived_t", "how", "outcome"]
    assert [(r["worker"], r["status"], r["arrived_t"], r["outcome"]) for r in rows] == [
        (HOSTILE, "arrived", "100.0", "on_time"), ("w2", "arrived", "950.0", "late"),
        ("w3", "acknowledged", "", "missing")]


def test_a_sweep_report(tmp_path):
    special = {household(MICRO_A1, 1, 2), household(MICRO_B1, 1, 2)}
    out = write_report(_sweep().entries, tmp_path, priority_ids=special)
    html = out["paths"]["report"].read_text(encoding="utf-8")
    assert set(out["paths"]) == {"report", "figures", "breakdown", "households"}
    assert "重点人群覆盖" in html and household(MICRO_B1, 1, 2) in html  # a special one missed
    assert "E-1" in html and "需帮助" in html
    rows = _rows(out["paths"]["households"])
    assert list(rows[0]) == ["household", "micro", "status", "reached_t", "outcome"]
    assert [(r["household"], r["status"], r["reached_t"], r["outcome"]) for r in rows] == [
        (household(MICRO_A1, 1, 1), "needs_help", "30.0", "on_time"),
        (household(MICRO_A1, 1, 2), "safe", "30.0", "on_time"),
        (household(MICRO_B1, 1, 1), "not_home", "930.0", "late"),
        (household(MICRO_B1, 1, 2), "", "", "missing")]
    assert read_figures(out["paths"]["figures"]) == dict(_scalars(out["figures"]))


def test_a_report_while_the_drill_runs_says_so(tmp_path):
    s = Stream(participants=[["w1", MICRO_A1, 0, "grid_worker", ""],
                             ["w2", MICRO_A1, 0, "grid_worker", ""]]).start(0).arrive("w1", 60)
    out = write_report(s.entries, tmp_path)
    html = out["paths"]["report"].read_text(encoding="utf-8")
    assert "演练尚未结束" in html and out["figures"]["projected_t"] is not None
    assert "预计完成" in html


@pytest.mark.parametrize("kind", ["muster", "sweep"])
def test_a_drill_only_planned_still_reports(tmp_path, kind):
    out = write_report(Stream(kind).entries, tmp_path)
    f = out["figures"]
    assert (f["status"], f["total"], f["passed"], f["t50"], f["curve"]) == (
        "planned", 0, False, None, [[0.0, 0]])
    assert "未通过" in out["paths"]["report"].read_text(encoding="utf-8")
