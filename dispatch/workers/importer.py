"""Reading a roster CSV into workers: all of it or nothing, every problem with its line and field.

A roster comes from a street office's spreadsheet (often GBK, from Excel on Windows). A clerk
fixes it in the file, so every problem names the line, the column and what the cell held, and
all of them are reported at once rather than one per attempt. A worker without a home
position is placed on their micro-grid's representative point (inside it, unlike a centroid).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
import shapely
from pydantic import ValidationError

from dispatch.csvfile import FileImportError, LineProblem, Row, check_header, decode, shown
from dispatch.workers.models import (
    COLUMNS,
    LEADER_ROLES,
    PHONE,
    WORKER_ID,
    DutyStatus,
    LeaderTier,
    Worker,
    WorkerRole,
)
from geo.grids import GridSet
from geo.model import Tier

#: Columns the header must have; the others may be left out (their cells then count as empty).
REQUIRED = ("id", "name", "phone", "role", "grid")
MAX_ROWS = 50_000
_TRUE = frozenset({"1", "true", "是"})
_FALSE = frozenset({"0", "false", "否", ""})
_E = TypeVar("_E", WorkerRole, DutyStatus, LeaderTier)


RosterProblem = LineProblem  # one problem of the file, named by line and column


class RosterImportError(FileImportError):
    """The roster cannot be imported; carries every problem found, in line order."""


_Row = Row


def read_roster(data: bytes, *, grids: GridSet) -> list[Worker]:
    """Every worker of the file, checked against ``grids``; raises RosterImportError."""
    rows = _rows(_decode(data))
    return _Checker(grids).workers(rows)


def _decode(data: bytes) -> str:
    return decode(data, error=RosterImportError)


def _rows(text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    read = [0]  # the last line of the last whole record: a broken one starts after it
    try:
        return list(_records(reader, read))
    except csv.Error as exc:  # a stray quote, a cell past the csv module's size limit
        raise RosterImportError([RosterProblem(read[0] + 1, "csv",
                                               f"cannot be read as CSV ({exc})")]) from None


def _records(reader: Any, read: list[int]) -> Iterator[_Row]:
    header, line = None, 0
    for record in reader:
        read[0] = reader.line_num
        if any(cell.strip() for cell in record):
            header, line = [cell.strip() for cell in record], reader.line_num
            break
    if header is None:
        raise RosterImportError([RosterProblem(1, "file", "is empty")])
    _check_header(header, line)
    problems, count = [], 0
    for record in reader:
        start, line = line + 1, reader.line_num
        read[0] = line
        if not any(cell.strip() for cell in record):
            continue
        count += 1
        if count > MAX_ROWS:
            raise RosterImportError([RosterProblem(start, "file",
                                                   f"has more than {MAX_ROWS:,} workers")])
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            problems.append(RosterProblem(start, "row", f"has {len(record)} cells; the "
                                                        f"header has {len(header)}"))
            continue
        yield _Row(start, dict(zip(header, record, strict=False)))
    if not count:
        raise RosterImportError([RosterProblem(line, "file", "holds no workers")])
    if problems:
        raise RosterImportError(problems)


def _check_header(header: list[str], line: int) -> None:
    check_header(header, line, columns=COLUMNS, required=REQUIRED, error=RosterImportError)


class _Checker:
    """One pass over the rows against one grid set, collecting problems instead of raising."""

    def __init__(self, grids: GridSet) -> None:
        frame = grids.frame
        self._tier = dict(zip(frame["code"], frame["tier"], strict=True))
        self._parent = dict(zip(frame["code"], frame["parent_code"], strict=True))
        micro = frame[frame["tier"] == Tier.MICRO.value]
        self._micro_index = {code: i for i, code in enumerate(micro["code"])}
        self._micro_geoms = micro.geometry.to_numpy()
        self._tree = shapely.STRtree(self._micro_geoms)
        self.problems: list[RosterProblem] = []

    def _problem(self, row: _Row, field: str, message: str) -> None:
        self.problems.append(RosterProblem(row.line, field, message, shown(row.text(field))))

    def workers(self, rows: list[_Row]) -> list[Worker]:
        checked = [(row, self._row(row)) for row in rows]
        self._duplicates(rows)
        self._two_leaders(checked)
        self._outside(checked)
        if self.problems:
            raise RosterImportError(self.problems)
        return [w for _, w in checked if w is not None]

    def _row(self, row: _Row) -> Worker | None:
        before = len(self.problems)
        values: dict[str, Any] = {"id": row.text("id"), "name": row.text("name")}
        phone = row.text("phone")
        if not PHONE.match(phone):
            self._problem(row, "phone", "must be 11 digits starting with 1")
        if row.text("id") and not WORKER_ID.match(row.text("id")):
            self._problem(row, "id", "must be letters, digits, '_' or '-' (at most 32), "
                                     "starting with a letter or digit")
        role = _enum(WorkerRole, row.text("role"))
        if role is None:
            self._problem(row, "role", f"unknown role; one of {_names(WorkerRole)}")
        grid = row.text("grid")
        if grid not in self._micro_index:
            self._problem(row, "grid", "is not a micro-grid of this grid set")
        party = row.text("party_member").lower()
        if party not in _TRUE | _FALSE:
            self._problem(row, "party_member", "must be 1, 0, true, false, 是 or 否")
        duty = _enum(DutyStatus, row.text("duty") or DutyStatus.OFF.value)
        if duty is None:
            self._problem(row, "duty", f"unknown duty status; one of {_names(DutyStatus)}")
        tier = self._leadership(row, role, grid)
        home = self._home(row, grid)
        values |= {"phone": phone, "role": role, "grid": grid, "party_member": party in _TRUE,
                   "leads": row.text("leads"), "leader_tier": tier, "duty": duty,
                   "skills": tuple(s.strip() for s in row.text("skills").split(";")
                                   if s.strip())}
        if home is not None:
            values |= {"home_lon": home[0], "home_lat": home[1]}
        flagged = {p.field for p in self.problems[before:]}
        if flagged:
            return None
        try:
            return Worker.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "row"
                self.problems.append(RosterProblem(row.line, field, error["msg"],
                                                   shown(row.text(field))))
            return None

    def _leadership(self, row: _Row, role: WorkerRole | None, grid: str) -> LeaderTier | None:
        leads, text = row.text("leads"), row.text("leader_tier")
        tier = _enum(LeaderTier, text) if text else None
        if text and tier is None:
            self._problem(row, "leader_tier", f"unknown tier; one of {_names(LeaderTier)}")
            return None
        if tier is not None and not leads:
            self._problem(row, "leads", f"is empty but leader_tier is {tier.value}")
        elif tier is None and leads:
            self._problem(row, "leader_tier", f"is empty but the worker leads {leads}")
        if tier is None or not leads:
            return tier
        if self._tier.get(leads) != tier.value:
            self._problem(row, "leads", f"is not a {tier.value} grid of this grid set")
        elif grid in self._micro_index and leads not in self._chain(grid):
            self._problem(row, "leads", f"is not a grid the worker lives in (their micro-grid "
                                        f"{grid} lies outside it)")
        if role is not None and role not in LEADER_ROLES[tier]:
            allowed = ", ".join(sorted(r.value for r in LEADER_ROLES[tier]))
            self._problem(row, "role", f"may not lead a {tier.value} grid; only {allowed}")
        return tier

    def _chain(self, micro: str) -> list[str]:
        chain, current = [], micro
        while current:
            chain.append(current)
            current = self._parent.get(current, "")
        return chain

    def _home(self, row: _Row, grid: str) -> tuple[float, float] | None:
        lon_text, lat_text = row.text("home_lon"), row.text("home_lat")
        if not lon_text and not lat_text:
            if grid not in self._micro_index:
                return None
            point = shapely.point_on_surface(self._micro_geoms[self._micro_index[grid]])
            return float(point.x), float(point.y)
        found = []
        for field, text in (("home_lon", lon_text), ("home_lat", lat_text)):
            if not text:
                self._problem(row, field, "is empty but the other coordinate is given")
                continue
            try:
                value = float(text)
            except ValueError:
                self._problem(row, field, "is not a number")
                continue
            if not math.isfinite(value):
                self._problem(row, field, "must be a finite number")
                continue
            found.append(value)
        return (found[0], found[1]) if len(found) == 2 else None

    def _duplicates(self, rows: list[_Row]) -> None:
        first: dict[str, int] = {}
        for row in rows:
            worker_id = row.text("id")
            if not worker_id:
                continue
            if worker_id in first:
                self._problem(row, "id", f"is given again: line {first[worker_id]} and line "
                                         f"{row.line} have the same id")
            else:
                first[worker_id] = row.line

    def _two_leaders(self, checked: list[tuple[_Row, Worker | None]]) -> None:
        leader: dict[str, int] = {}
        for row, worker in checked:
            if worker is None or not worker.leads:
                continue
            if worker.leads in leader:
                self._problem(row, "leads", f"grid already has a leader: line "
                                            f"{leader[worker.leads]} and line {row.line} "
                                            f"both lead it")
            else:
                leader[worker.leads] = row.line

    def _outside(self, checked: list[tuple[_Row, Worker | None]]) -> None:
        placed = [(row, w) for row, w in checked if w is not None
                  and (row.text("home_lon") or row.text("home_lat"))]
        if not placed:
            return
        points = shapely.points(np.array([w.home_lon for _, w in placed]),
                                np.array([w.home_lat for _, w in placed]))
        hits = self._tree.query(points, predicate="intersects")
        inside = set(hits[0].tolist())
        for i, (row, _) in enumerate(placed):
            if i not in inside:
                self.problems.append(RosterProblem(
                    row.line, "home_lon,home_lat", "is outside the district (in no grid)",
                    f"{row.text('home_lon')},{row.text('home_lat')}"))


def _enum(kind: type[_E], text: str) -> _E | None:
    try:
        return kind(text.lower())
    except ValueError:
        return None


def _names(kind: type[WorkerRole] | type[DutyStatus] | type[LeaderTier]) -> str:
    return ", ".join(m.value for m in kind)
