"""After-action figures of one drill, computed only from its own change stream.

Nothing here reads Redis or the resident base: the stream holds the plan (participants,
households in scope) and every step, so the same entries always give the same figures. The
only outside input is which households are special-population, which the stream never names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dispatch.drills.measures import (
    GRID_LEVELS,
    breakdown,
    grid_namer,
    moments,
    progress,
    rollup,
    share,
    timeline,
)
from dispatch.drills.models import ArrivalHow, DrillStatus, HouseholdStatus
from dispatch.drills.models import ResponderStatus as RS
from dispatch.drills.stream import Entry, Participant, collector_paused, status_at
from dispatch.drills.tally import MusterLog, SweepLog, Tally, muster_log, read, sweep_log
from geo.grids import GridSet

OVER = frozenset({DrillStatus.FINISHED.value, DrillStatus.ABORTED.value})
RESPONDER_STATUSES = frozenset(s.value for s in RS)
HOWS = frozenset(h.value for h in ArrivalHow)
MUSTER_LEVELS = ("street", "community", "grid")
SWEEP_LEVELS = ("street", "community", "grid", "micro")


def figures(entries: Sequence[Entry], *, grids: GridSet | None = None,
            priority_ids: set[str] | None = None) -> dict[str, Any]:
    """The figures of a muster or a sweep, whichever the stream's header says it is."""
    return figures_of(read(entries), grids=grids, priority_ids=priority_ids)


def figures_of(log: MusterLog | SweepLog, *, grids: GridSet | None = None,
               priority_ids: set[str] | None = None) -> dict[str, Any]:
    """The same from a stream already read (the report reads a district sweep once)."""
    with collector_paused():
        if isinstance(log, MusterLog):
            return _muster(log, grids)
        return _sweep(log, priority_ids, grids)


def muster_figures(entries: Sequence[Entry], *, grids: GridSet | None = None) -> dict[str, Any]:
    """Who of the called responders arrived, how fast, and how it was established."""
    return figures_of(muster_log(entries), grids=grids)


def sweep_figures(entries: Sequence[Entry], *, priority_ids: set[str] | None = None,
                  grids: GridSet | None = None) -> dict[str, Any]:
    """How many households were reached, how fast, what was found, and who asked for help."""
    return figures_of(sweep_log(entries), grids=grids, priority_ids=priority_ids)


def _about(log: Tally) -> dict[str, Any]:
    """What the drill was and where it stands, shared by both kinds."""
    head = log.head
    ended = [m.t for m in log.moves if m.after in OVER]
    return {"id": head.id, "kind": head.kind.value, "title": head.title,
            "scenario": head.scenario, "scope": head.scope, "status": status_at(log.moves),
            "simulated": head.simulated, "speed": head.speed, "target_s": head.target_s,
            "pass_share": head.pass_share, "as_of_t": log.last_t,
            "ended_t": ended[0] if ended else None}


def _muster(log: MusterLog, grids: GridSet | None) -> dict[str, Any]:
    head, workers = log.head, log.workers()
    called = set(workers)
    arrived = sorted(((w, a) for w, a in log.arrivals.items() if w in called),
                     key=lambda pair: (pair[1].t, pair[0]))
    out = _about(log)
    times, ats = [a.t for _, a in arrived], [a.at for _, a in arrived]
    out |= progress(times, ats, len(workers), head, now=log.last_t, over=out["status"] in OVER)
    out["late"] = [[w, a.t] for w, a in arrived if a.t > head.target_s]
    out["missing"] = [[w, responder_status(log, w)] for w in workers if w not in log.arrivals]
    hows = Counter(a.how if a.how in HOWS else "other" for _, a in arrived)
    out["by_how"] = {"geofence": hows[ArrivalHow.GEOFENCE.value],
                     "override": hows[ArrivalHow.OVERRIDE.value], "other": hows["other"]}
    out["overrides"] = [[w, a.t, a.reason] for w, a in arrived
                        if a.how == ArrivalHow.OVERRIDE.value]
    statuses = Counter(responder_status(log, w) for w in workers)
    out["status_counts"] = {s.value: statuses[s.value] for s in RS}
    out["breakdowns"] = _muster_breakdowns(log, grids)
    out["timeline"] = timeline(log.planned, log.moves, moments(times, ats, len(workers)))
    return out


def responder_status(log: MusterLog, worker: str) -> str:
    """A responder's last status (notified until they step)."""
    status = log.status.get(worker, "")
    return status if status in RESPONDER_STATUSES else RS.NOTIFIED.value


def _muster_breakdowns(log: MusterLog, grids: GridSet | None) -> dict[str, list[dict[str, Any]]]:
    """Per street, community, general grid, team and muster point."""
    target = log.head.target_s
    out = {}
    for level, key in _muster_keys().items():
        totals, reached, within = Counter[str](), Counter[str](), Counter[str]()
        for person in log.head.participants:
            code = key(person)
            arrival = log.arrivals.get(person.worker)
            totals[code] += 1
            reached[code] += arrival is not None
            within[code] += arrival is not None and arrival.t <= target
        out[level] = breakdown(level, totals, reached, within, _muster_namer(level, log, grids))
    return out


def _muster_keys() -> dict[str, Callable[[Participant], str]]:
    """Level → the group one responder counts in."""
    keys = {level: _by_grid(GRID_LEVELS[level]) for level in MUSTER_LEVELS}
    keys["team"] = lambda person: person.team
    keys["point"] = lambda person: str(person.point) if person.point >= 0 else ""
    return keys


def _by_grid(key: Callable[[str], str]) -> Callable[[Participant], str]:
    return lambda person: key(person.grid)


def _muster_namer(level: str, log: MusterLog, grids: GridSet | None) -> Callable[[str], str]:
    if level in GRID_LEVELS:
        return grid_namer(grids)
    if level == "point":
        points = {str(i): str(p.get("name", "")) for i, p in enumerate(log.head.points)}
        return lambda code: points.get(code, "")
    return lambda code: code  # a team is named by its name


def _sweep(log: SweepLog, priority_ids: set[str] | None,
           grids: GridSet | None) -> dict[str, Any]:
    head, totals = log.head, log.totals()
    total = sum(totals.values())
    times, ats = log.first_t.tolist(), log.first_at.tolist()  # in drill-time order
    out = _about(log)
    out |= progress(times, ats, total, head, now=log.last_t, over=out["status"] in OVER)
    late = log.first_t > head.target_s
    out["late"] = [[h, t] for h, t in zip(log.households[late].tolist(),
                                          log.first_t[late].tolist(), strict=True)]
    reached = log.reached_per_micro
    out["missing"] = sorted(([m, n - reached.get(m, 0)] for m, n in totals.items()
                             if n > reached.get(m, 0)), key=lambda row: (-row[1], row[0]))
    found = Counter(log.last_status.tolist())
    out["status_counts"] = {s.value: found[s.value] for s in HouseholdStatus}
    out["help"] = [[household, event, t] for t, household, event in log.help]
    out["help_count"] = len(log.help)
    out["special"] = _special(log, priority_ids)
    out["workers"] = len(log.workers)
    out["slots"] = len(log.slots)
    out["breakdowns"] = _sweep_breakdowns(log, totals, grids)
    out["timeline"] = timeline(log.planned, log.moves, moments(times, ats, total))
    return out


def _special(log: SweepLog, priority_ids: Iterable[str] | None) -> dict[str, Any]:
    """Reached share of special-population households; without their ids, only how many."""
    if priority_ids is None:
        return {"known": False, "total": sum(log.head.priority.values()), "reached": None,
                "share": None, "within_target": None, "within_share": None, "missing": None}
    scope = set(log.head.households)
    ids = sorted(h for h in priority_ids if not scope or h[:17] in scope)
    where = (pd.Index(log.households).get_indexer(pd.Index(ids)) if ids
             else np.zeros(0, dtype=np.int64))
    times = log.first_t[where[where >= 0]]
    within = int((times <= log.head.target_s).sum())
    return {"known": True, "total": len(ids), "reached": len(times),
            "share": share(len(times), len(ids)), "within_target": within,
            "within_share": share(within, len(ids)),
            "missing": [h for h, i in zip(ids, where.tolist(), strict=True) if i < 0]}


def _sweep_breakdowns(log: SweepLog, totals: dict[str, int],
                      grids: GridSet | None) -> dict[str, list[dict[str, Any]]]:
    """Per street, community, general grid and micro-grid, rolled up from the micro-grids."""
    within = log.per_micro(log.first_t <= log.head.target_s)
    names = grid_namer(grids)
    out = {}
    for level in SWEEP_LEVELS:
        key = GRID_LEVELS[level]
        out[level] = breakdown(level, rollup(totals.items(), key),
                               rollup(log.reached_per_micro.items(), key),
                               rollup(within.items(), key), names)
    return out
