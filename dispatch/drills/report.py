"""One drill's after-action report: a single HTML page that opens offline, and CSV files.

The curve is inline SVG drawn by the template rather than Plotly. Embedding plotly.js would
add about 3.5 MB to every report (the SVG is a few kilobytes), would need plotly declared
as a dependency of its own (it only arrives here through dash), and an SVG needs no script
to show, so the curve still prints, and still shows where a browser blocks scripts. The page
also carries a Content-Security-Policy that forbids every network request, so nothing in it
can reach out even by mistake.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from dispatch import localtime
from dispatch.drills import labels, tables
from dispatch.drills.chart import clock, curve_chart
from dispatch.drills.figures import figures_of
from dispatch.drills.models import DrillKind
from dispatch.drills.replay import Replay
from dispatch.drills.stream import Entry
from dispatch.drills.tally import MusterLog, SweepLog, read
from geo.grids import GridSet
from geo.model import street_code_of

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Rows a list or table shows on the page; the CSV files hold every one.
LIST_CAP = 300
TABLE_CAP = 40


def write_report(entries: Sequence[Entry], out_dir: Path, *, grids: GridSet | None = None,
                 priority_ids: set[str] | None = None) -> dict[str, Any]:
    """Write report.html and the CSV files; return the figures and the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log = read(entries)
    figs = figures_of(log, grids=grids, priority_ids=priority_ids)
    html_path = out_dir / "report.html"
    html_path.write_text(render(figs, minute_frames(Replay(log))), encoding="utf-8")
    paths = {"report": html_path, **_write_tables(log, figs, out_dir)}
    return {"figures": figs, "paths": paths}


def report_html(entries: Sequence[Entry], *, grids: GridSet | None = None,
                priority_ids: set[str] | None = None) -> str:
    """The report page alone (what a screen's download needs; the CSV files are not made)."""
    log = read(entries)
    figs = figures_of(log, grids=grids, priority_ids=priority_ids)
    return render(figs, minute_frames(Replay(log)))


def _write_tables(log: MusterLog | SweepLog, figs: dict[str, Any],
                  out_dir: Path) -> dict[str, Path]:
    paths = {
        "figures": tables.write_csv(out_dir / "figures.csv", ("name", "value"),
                                    tables.figure_rows(figs)),
        "breakdown": tables.write_csv(out_dir / "breakdown.csv", tables.BREAKDOWN_COLUMNS,
                                      tables.breakdown_rows(figs))}
    if isinstance(log, MusterLog):
        paths["people"] = tables.write_csv(out_dir / "people.csv", tables.PEOPLE_COLUMNS,
                                           tables.people_rows(log))
    else:
        missing = figs["special"]["missing"] or ()
        paths["households"] = tables.write_csv(out_dir / "households.csv",
                                               tables.HOUSEHOLD_COLUMNS,
                                               tables.household_rows(log, missing))
    return paths


def minute_frames(replay: Replay, step_s: float = 60.0) -> list[dict[str, Any]]:
    """The drill's counts at each whole minute, through the last entry (for the scrubber)."""
    frames = []
    minute = 0
    while True:
        state = replay.at(minute * step_s)
        frame = {"m": minute, "status": state["status"], "total": state["total"]}
        if replay.head.kind is DrillKind.MUSTER:
            frame |= {"reached": state["arrived"], "counts": state["counts"]}
        else:
            streets: Counter[str] = Counter()
            for micro, n in state["by_micro"].items():
                streets[street_code_of(micro)] += n
            frame |= {"reached": state["reached"], "counts": state["statuses"],
                      "help": state["help"], "streets": dict(streets)}
        frames.append(frame)
        if minute * step_s >= replay.end_t:
            return frames
        minute += 1


def render(figs: dict[str, Any], frames: list[dict[str, Any]]) -> str:
    """The report page: every inserted text escaped by the template's autoescape."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters |= {"clock": clock, "wall": _wall, "pct": _pct, "num": _num}
    chart = curve_chart(figs)
    is_muster = figs["kind"] == DrillKind.MUSTER.value
    return env.get_template("report.html").render(
        f=figs, chart=chart, muster=is_muster, labels=labels, cap=LIST_CAP, table_cap=TABLE_CAP,
        scenario=labels.scenario_label(figs["scenario"]),
        count_labels=labels.RESPONDERS if is_muster else labels.HOUSEHOLDS,
        streets=_streets(figs), generated=localtime.iso(time.time()),
        replay={"frames": frames, "left": chart["left"], "right": chart["right"],
                "span": chart["span"]})


def _streets(figs: dict[str, Any]) -> list[tuple[str, str]]:
    return [(row["code"], row["name"]) for row in figs["breakdowns"]["street"]]


def _wall(at: float | None) -> str:
    return localtime.iso(at)[11:19] if at is not None else "—"


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
