"""A sweep read once from its stream, as arrays.

A district sweep reports hundreds of thousands of households, so first visits, last
statuses and the status counts each report entry shifts are found with numpy and pandas
over all reported rows at once, not with a Python step per household.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any

import numpy as np
import orjson
import pandas as pd
from numpy.typing import NDArray

from dispatch.drills.models import DrillChange, HouseholdStatus
from dispatch.drills.stream import Entry, Tally, at_of, t_of

HOUSEHOLD_STATUSES = tuple(s.value for s in HouseholdStatus)
_COLUMN = {s: i for i, s in enumerate(HOUSEHOLD_STATUSES)}


@dataclass
class SweepLog(Tally):
    households: NDArray[np.object_]  # every household reached, in the order first reached
    first_t: NDArray[np.float64]  # drill second each was first reached (never decreasing)
    first_at: NDArray[np.float64]  # its wall clock (NaN when the entry had none)
    last_status: NDArray[np.object_]  # each one's last reported status
    change_t: NDArray[np.float64]  # one per report entry
    changes: NDArray[np.int64]  # per report entry: how it shifts each status count
    help: list[tuple[float, str, str]]  # (t, household, event)
    workers: set[str]
    slots: set[str]  # buildings with a published slot

    @cached_property
    def _micro_of(self) -> list[str]:
        return [h[:17] for h in self.households.tolist()]

    @cached_property
    def micros(self) -> list[str]:
        """Every micro-grid planned or reported, sorted."""
        return sorted(set(self.head.households).union(self._micro_of))

    @cached_property
    def micro_index(self) -> NDArray[np.int64]:
        """Per household reached: its micro-grid's place in :attr:`micros`."""
        where = pd.Index(self.micros).get_indexer(pd.Index(self._micro_of))
        return np.asarray(where, dtype=np.int64)

    def per_micro(self, mask: NDArray[np.bool_] | None = None) -> dict[str, int]:
        """Households reached per micro-grid (only those ``mask`` keeps), zeros left out."""
        index = self.micro_index if mask is None else self.micro_index[mask]
        counts = np.bincount(index, minlength=len(self.micros)).tolist()
        return {m: n for m, n in zip(self.micros, counts, strict=True) if n}

    @cached_property
    def reached_per_micro(self) -> dict[str, int]:
        return self.per_micro()

    def totals(self) -> dict[str, int]:
        """Households per micro-grid: as planned, or as many as were reported when more."""
        totals = dict(self.head.households)
        for micro, n in self.reached_per_micro.items():
            totals[micro] = max(totals.get(micro, 0), n)
        return totals

    def at_of(self, i: int) -> float | None:
        at = float(self.first_at[i])
        return None if math.isnan(at) else at


def read_sweep(base: Tally, in_order: Sequence[Entry]) -> SweepLog:
    """Every report row at once, then the arrays; help events and slots as they come."""
    rows: list[list[Any]] = []
    lengths: list[int] = []
    entry_t: list[float] = []
    entry_at: list[float] = []
    help_events: list[tuple[float, str, str]] = []
    workers: set[str] = set()
    slots: set[str] = set()
    for _, fields in in_order:
        kind = fields.get("kind")
        if kind == DrillChange.SWEPT.value:
            batch = orjson.loads(fields.get("items") or "[]")
            if not all(isinstance(r, list) and len(r) >= 2 for r in batch):
                batch = [r for r in batch if isinstance(r, list) and len(r) >= 2]
            rows += batch
            lengths.append(len(batch))
            entry_t.append(t_of(fields))
            entry_at.append(_nan(at_of(fields)))
            workers.add(fields.get("worker", ""))
        elif kind == DrillChange.HELP.value:
            help_events.append((t_of(fields), fields.get("household", ""),
                                fields.get("event", "")))
        elif kind == DrillChange.SLOTS.value:
            slots.update(str(r[0]) for r in orjson.loads(fields.get("items") or "[]") if r)
    workers.discard("")
    return SweepLog(base.head, base.moves, base.planned, base.last_t,
                    **_index(rows, lengths, entry_t, entry_at),
                    help=help_events, workers=workers, slots=slots)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _index(rows: list[list[Any]], lengths: list[int], entry_t: list[float],
           entry_at: list[float]) -> dict[str, Any]:
    """First visits and last statuses per household; status count shifts per entry."""
    counts = np.asarray(lengths, dtype=np.int64)
    row_t = np.repeat(np.asarray(entry_t, dtype=np.float64), counts)
    row_at = np.repeat(np.asarray(entry_at, dtype=np.float64), counts)
    row_entry = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    codes, households = _factorize(list(map(itemgetter(0), rows)))
    status_codes, statuses = _factorize(list(map(itemgetter(1), rows)))
    column = np.asarray([_COLUMN.get(s, -1) for s in statuses.tolist()], dtype=np.int64)
    seen_max = np.maximum.accumulate(codes) if len(codes) else codes
    first = codes > np.concatenate(([-1], seen_max[:-1]))  # codes count up in order of first sight
    order = np.argsort(codes, kind="stable")  # each household's rows together, in time order
    code_s, status_s = codes[order], status_codes[order]
    last = np.concatenate((code_s[1:] != code_s[:-1], [True])) if len(code_s) else first
    last_status = np.empty(len(households), dtype=object)
    last_status[code_s[last]] = statuses[status_s[last]]
    return {"households": households, "first_t": row_t[first], "first_at": row_at[first],
            "last_status": last_status, "change_t": np.asarray(entry_t, dtype=np.float64),
            "changes": _shifts(code_s, column[status_s], status_s, row_entry[order],
                               len(lengths))}


def _factorize(values: list[Any]) -> tuple[NDArray[np.int64], NDArray[np.object_]]:
    """Codes numbered in order of first appearance, and the distinct values as text."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    texts = uniques.tolist()
    if not all(type(u) is str for u in texts):
        texts = [str(u) for u in texts]
    return np.asarray(codes, dtype=np.int64), np.asarray(texts, dtype=object)


def _shifts(code: NDArray[np.int64], column: NDArray[np.int64], status: NDArray[np.int64],
            entry: NDArray[np.int64], n_entries: int) -> NDArray[np.int64]:
    """Per entry, +1 to each new status and -1 to the one it replaces (rows by household)."""
    width = len(HOUSEHOLD_STATUSES)
    same = np.concatenate(([False], code[1:] == code[:-1])) if len(code) else code.astype(bool)
    before_status = np.concatenate(([-1], status[:-1]))[: len(code)]
    before_column = np.concatenate(([-1], column[:-1]))[: len(code)]
    changed = ~same | (status != before_status)
    plus, minus = changed & (column >= 0), changed & same & (before_column >= 0)
    size = n_entries * width
    shift = (np.bincount(entry[plus] * width + column[plus], minlength=size)
             - np.bincount(entry[minus] * width + before_column[minus], minlength=size))
    return np.asarray(shift, dtype=np.int64).reshape(n_entries, width)
