"""The report's CSV files: headline figures, one row per group, one per person or household.

Ids only: worker ids, household ids, grid codes. Names and phones stay in the resident base
and the roster. A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``)
gets a leading apostrophe, which :func:`read_figures` takes off again.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.drills.models import ResponderStatus
from dispatch.drills.tally import MusterLog, SweepLog

TEXT_FIGURES = frozenset({"id", "kind", "title", "scenario", "scope", "status"})
BREAKDOWN_COLUMNS = ("level", "code", "name", "total", "reached", "share", "within_target")
PEOPLE_COLUMNS = ("worker", "status", "arrived_t", "how", "outcome")
HOUSEHOLD_COLUMNS = ("household", "micro", "status", "reached_t", "outcome")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_STARTS = frozenset(_FORMULA)


def cell(value: object) -> str:
    """One CSV cell: blank for None, true/false, full-precision numbers, guarded text."""
    if type(value) is str:  # the common case first: a district writes millions of cells
        return "'" + value if value[:1] in _FORMULA_STARTS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return cell(str(value))


def figure_rows(figs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, value) for every single-valued figure; a dict of them as ``name.part``."""
    rows = []
    for name, value in figs.items():
        if isinstance(value, Mapping):
            rows += [(f"{name}.{part}", cell(v)) for part, v in value.items() if _single(v)]
        elif _single(value):
            rows.append((name, cell(value)))
    return rows


def _single(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def read_figures(path: Path) -> dict[str, Any]:
    """``figures.csv`` back as values (numbers, booleans, None), for checks and other tools."""
    with open(path, encoding="utf-8", newline="") as fh:
        return {row["name"]: _value(row["name"], row["value"]) for row in csv.DictReader(fh)}


def _value(name: str, text: str) -> Any:
    if text.startswith("'") and text[1:].startswith(_FORMULA):
        text = text[1:]
    if name in TEXT_FIGURES:
        return text
    if text in ("", "true", "false"):
        return None if not text else text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def write_csv(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows([cell(v) for v in row] for row in rows)
    return path


def breakdown_rows(figs: Mapping[str, Any]) -> Iterable[list[object]]:
    for rows in figs["breakdowns"].values():
        for row in rows:
            yield [row[column] for column in BREAKDOWN_COLUMNS]


def people_rows(log: MusterLog) -> Iterable[list[object]]:
    """One row per responder called: last status, first arrival, and on time, late or missing."""
    target = log.head.target_s
    for worker in log.workers():
        arrival = log.arrivals.get(worker)
        status = log.status.get(worker) or ResponderStatus.NOTIFIED.value
        if arrival is None:
            yield [worker, status, None, "", "missing"]
        else:
            outcome = "on_time" if arrival.t <= target else "late"
            yield [worker, status, arrival.t, arrival.how, outcome]


def household_rows(log: SweepLog, priority_missing: Iterable[str] = ()) -> Iterable[list[object]]:
    """One row per household reached (and per special-population household never reached)."""
    target = log.head.target_s
    for household, status, t in zip(log.households.tolist(), log.last_status.tolist(),
                                    log.first_t.tolist(), strict=True):  # as they were reached
        yield [household, household[:17], status, t, "on_time" if t <= target else "late"]
    for household in priority_missing:
        yield [household, household[:17], "", None, "missing"]
