"""One reading of a drill's stream, the start of every figure, replay frame and CSV row.

The figures, the replay and the report's CSV files all take this one reading, so a number in
the HTML and the same number in a spreadsheet can never disagree, and a district sweep's
stream is parsed once per report, not once per output.
"""

from __future__ import annotations

from collections.abc import Sequence

from dispatch.drills.models import DrillKind
from dispatch.drills.musterlog import Arrival, MusterLog, read_muster
from dispatch.drills.stream import Entry, Tally, collector_paused, tally
from dispatch.drills.sweeplog import HOUSEHOLD_STATUSES, SweepLog, read_sweep

__all__ = ["HOUSEHOLD_STATUSES", "Arrival", "MusterLog", "SweepLog", "Tally", "muster_log",
           "read", "sweep_log"]


def read(entries: Sequence[Entry]) -> MusterLog | SweepLog:
    """The reading of a muster or a sweep, whichever the stream's header says it is."""
    with collector_paused():
        in_order, base = tally(entries)
        if base.head.kind is DrillKind.MUSTER:
            return read_muster(base, in_order)
        return read_sweep(base, in_order)



def muster_log(entries: Sequence[Entry]) -> MusterLog:
    log = read(entries)
    if not isinstance(log, MusterLog):
        raise ValueError(f"drill {log.head.id!r} is a {log.head.kind.value}, not a muster")
    return log


def sweep_log(entries: Sequence[Entry]) -> SweepLog:
    log = read(entries)
    if not isinstance(log, SweepLog):
        raise ValueError(f"drill {log.head.id!r} is a {log.head.kind.value}, not a sweep")
    return log
