"""The cumulative curve against the target, as inline-SVG geometry for the report.

Only numbers are computed here; the template draws them, so every label passes through its
escaping. A curve with more points than the chart has pixels keeps the last point per pixel
column, which is what a step line would show there anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 24, 44
MINUTE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120)


def clock(seconds: float | None) -> str:
    """Drill seconds as m:ss (h:mm:ss past an hour); a dash when it never happened."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def curve_chart(figs: dict[str, Any]) -> dict[str, Any]:
    """Step path, target and pass lines, axis ticks and the 50 / 80 / 100 % marks."""
    points: Sequence[Sequence[float]] = figs["curve"]
    total = max(int(figs["total"]), 1)
    ends = [figs["target_s"] * 1.15, figs["as_of_t"], points[-1][0] if points else 0.0]
    if figs.get("projected_t"):
        ends.append(figs["projected_t"])
    span = max(max(ends), 60.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(t: float) -> float:
        return round(LEFT + plot_w * min(t, span) / span, 1)

    def y(n: float) -> float:
        return round(TOP + plot_h * (1 - n / total), 1)

    last = points[-1] if points else (0.0, 0)
    out: dict[str, Any] = {
        "width": WIDTH, "height": HEIGHT, "span": span, "left": LEFT, "top": TOP,
        "right": WIDTH - RIGHT, "bottom": HEIGHT - BOTTOM,
        "path": _step_path(points, x, y, figs["as_of_t"]),
        "target_x": x(figs["target_s"]), "pass_y": y(figs["pass_share"] * total),
        "xticks": [(x(m * 60), f"{m}′") for m in _minute_ticks(span)],
        "yticks": [(y(total * q / 4), f"{q * 25}%") for q in range(5)],
        "marks": [(x(figs[f"t{p}"]), y(total * p / 100), f"{p}%") for p in (50, 80, 100)
                  if figs.get(f"t{p}") is not None],
        "projection": None,
    }
    if figs.get("projected_t"):
        out["projection"] = (x(figs["as_of_t"]), y(last[1]), x(figs["projected_t"]), y(total))
    return out


def _step_path(points: Sequence[Sequence[float]], x: Any, y: Any, end_t: float) -> str:
    """``M``/``H``/``V`` commands of the cumulative step line, one point per pixel column."""
    kept: dict[float, Sequence[float]] = {}
    for point in points:
        kept[x(point[0])] = point
    parts = [f"M{x(0.0)} {y(0)}"]
    for px, (_, n) in kept.items():
        parts.append(f"H{px} V{y(n)}")
    parts.append(f"H{x(max(end_t, points[-1][0] if points else 0.0))}")
    return " ".join(parts)


def _minute_ticks(span_s: float) -> list[int]:
    """Whole-minute ticks, at most about ten of them."""
    minutes = span_s / 60
    step = next((s for s in MINUTE_STEPS if minutes / s <= 10), MINUTE_STEPS[-1])
    return list(range(0, int(minutes) + 1, step))
