"""The yardsticks a muster and a sweep share: time to 50 / 80 / 100 %, pass against the
target, the cumulative curve, a projected finish, the timeline, and breakdowns worst first.

Every input is drill time (``t``), so a pause is already left out of every duration here.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from dispatch.drills.stream import Header, Move
from geo.grids import GridSet
from geo.model import street_code_of, street_names

PERCENTS = (50, 80, 100)
#: The projected finish follows the arrivals of this many recent drill seconds.
PROJECTION_WINDOW_S = 180.0

Moment = tuple[float | None, float | None]  # (drill seconds, wall clock), None: never came


def need(share: float, total: int) -> int:
    """How many make ``share`` of ``total``, rounded up: 80 % of 9 is 8 (7 would fall short)."""
    return max(0, math.ceil(share * total - 1e-9))


def share(part: int, total: int) -> float:
    return part / total if total else 0.0


def progress(times: Sequence[float], ats: Sequence[float | None], total: int, head: Header, *,
             now: float, over: bool) -> dict[str, Any]:
    """The headline numbers from each first arrival (or first visit) in drill-time order:
    ``times[i]`` is when the i-th came, ``ats[i]`` the wall clock of it."""
    within = bisect_right(times, head.target_s)
    out: dict[str, Any] = {
        "total": total, "reached": len(times), "share": share(len(times), total),
        "within_target": within, "within_share": share(within, total),
        "passed": total > 0 and within >= need(head.pass_share, total),
        "late_count": len(times) - within, "missing_count": max(total - len(times), 0),
    }
    for percent, (t, _) in moments(times, ats, total).items():
        out[f"t{percent}"] = t
    out["curve"] = curve(times)
    out["projected_t"] = projected(times, total, now=now, over=over)
    return out


def moments(times: Sequence[float], ats: Sequence[float | None],
            total: int) -> dict[int, Moment]:
    """When 50, 80 and 100 % was made, both clocks ((None, None) when it never was)."""
    out: dict[int, Moment] = {}
    for percent in PERCENTS:
        k = need(percent / 100, total)
        if total and 0 < k <= len(times):
            at = ats[k - 1]
            out[percent] = (float(times[k - 1]),
                            None if at is None or math.isnan(at) else float(at))
        else:
            out[percent] = (None, None)
    return out


def curve(times: Sequence[float]) -> list[list[float]]:
    """(t, how many so far) at every drill second something arrived, from (0, 0)."""
    t = np.asarray(times, dtype=np.float64)
    if not len(t):
        return [[0.0, 0]]
    ends = np.flatnonzero(np.concatenate((t[1:] != t[:-1], [True])))  # last of each instant
    points = [[x, n] for x, n in zip(t[ends].tolist(), (ends + 1).tolist(), strict=True)]
    return points if points[0][0] <= 0 else [[0.0, 0], *points]


def projected(times: Sequence[float], total: int, *, now: float, over: bool) -> float | None:
    """When the last one would arrive at the recent rate; None once over or with no progress."""
    if over or not times or len(times) >= total:
        return None
    start = max(0.0, now - PROJECTION_WINDOW_S)
    recent = len(times) - bisect_right(times, start)
    span = now - start
    if recent <= 0 or span <= 0:
        return None
    return now + (total - len(times)) * span / recent


def timeline(planned: Moment, drill_moves: Sequence[Move], reached: dict[int, Moment]
             ) -> list[dict[str, Any]]:
    """Planned, every move, and the 50 / 80 / 100 % moments, by drill time."""
    rows: list[dict[str, Any]] = [{"what": "planned", "t": planned[0], "at": planned[1]}]
    rows += [{"what": m.action, "t": m.t, "at": m.at} for m in drill_moves]
    rows += [{"what": f"reached_{p}", "t": t, "at": at}
             for p, (t, at) in reached.items() if t is not None]
    return sorted(rows, key=lambda row: row["t"])


def _community(code: str) -> str:
    return code[:12] + "00" if len(code) >= 14 else ""


def _general(code: str) -> str:
    return code[:14] if len(code) >= 14 and code[12:14] != "00" else ""


def _micro(code: str) -> str:
    return code if len(code) == 17 else ""


#: Grid level → the code of that level a grid code sits in ("" when it sits above it).
GRID_LEVELS: dict[str, Callable[[str], str]] = {
    "street": street_code_of, "community": _community, "grid": _general, "micro": _micro}


def grid_namer(grids: GridSet | None) -> Callable[[str], str]:
    """A grid or street code's Chinese name (streets always; grids with a grid set)."""
    streets = street_names()

    def name(code: str) -> str:
        if code in streets:
            return streets[code][0]
        return grids.ref(code).name if grids is not None and code in grids else ""

    return name


def rollup(per_code: Iterable[tuple[str, int]], key: Callable[[str], str]) -> Counter[str]:
    out: Counter[str] = Counter()
    for code, n in per_code:
        out[key(code)] += n
    return out


def breakdown(level: str, totals: Mapping[str, int], reached: Mapping[str, int],
              within: Mapping[str, int], name: Callable[[str], str]) -> list[dict[str, Any]]:
    """One row per group, worst first: lowest share within target, then lowest reached."""
    rows = []
    for code, total in totals.items():
        got, early = reached.get(code, 0), within.get(code, 0)
        rows.append({"level": level, "code": code, "name": name(code) if code else "",
                     "total": total, "reached": got, "share": share(got, total),
                     "within_target": early, "within_share": share(early, total),
                     "missing": max(total - got, 0)})
    return sorted(rows, key=lambda r: (r["within_share"], r["share"], -r["total"], r["code"]))
