"""Reading a household CSV into the resident base: all of it or nothing, every problem named.

A community's household register comes from a spreadsheet a clerk keeps. The clerk fixes it
in the file, so every problem names the line, the column and what the cell held, and all of
them are reported at once. Households are numbered in file order within their building
(``<micro>-<building>-<number>``), so a building's rows should stay in the order its doors
are to be visited.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from dispatch.csvfile import FileImportError, LineProblem, Row, check_header, decode, shown
from dispatch.households.models import Household, SpecialTag, household_id
from geo.grids import GridSet
from geo.model import Tier

COLUMNS = ("micro", "building", "address", "head", "phone", "members", "tags")
#: Columns the header must have; phone and tags may be left out (their cells count as empty).
REQUIRED = ("micro", "building", "address", "head", "members")
MAX_ROWS = 2_000_000
MAX_BUILDING = 99
MAX_PER_BUILDING = 999
MAX_MEMBERS = 30
#: Tags as written in a cell: the value (``elderly_alone``) or its label (``独居老人``).
TAG_NAMES: dict[str, SpecialTag] = ({t.value: t for t in SpecialTag}
                                    | {t.label: t for t in SpecialTag})
_TAG_SPLIT = re.compile(r"[;；]")  # a half- or full-width semicolon
_PHONE = re.compile(r"^1\d{10}$")
_NUMBER = re.compile(r"^\d{1,3}$")


HouseholdProblem = LineProblem  # one problem of the file, named by line and column


class HouseholdImportError(FileImportError):
    """The file cannot be imported; carries every problem found, in line order."""


_Row = Row


def read_households(data: bytes, *, grids: GridSet) -> list[Household]:
    """Every household of the file, checked against ``grids``; raises HouseholdImportError."""
    checker = _Checker(grids)
    return checker.households(_rows(_decode(data), checker.problems))


def _decode(data: bytes) -> str:
    return decode(data, error=HouseholdImportError)


def _rows(text: str, problems: list[HouseholdProblem]) -> list[_Row]:
    """The rows with cells; a row of the wrong shape is a problem, and the others are still
    checked, so one run names everything."""
    reader = csv.reader(io.StringIO(text, newline=""))
    read = [0]  # the last line of the last whole record: a broken one starts after it
    try:
        return list(_records(reader, read, problems))
    except csv.Error as exc:
        raise HouseholdImportError([HouseholdProblem(read[0] + 1, "csv",
                                                     f"cannot be read as CSV ({exc})")]) from None


def _records(reader: Any, read: list[int], problems: list[HouseholdProblem]) -> Iterator[_Row]:
    header, line = None, 0
    for record in reader:
        read[0] = reader.line_num
        if any(cell.strip() for cell in record):
            header, line = [cell.strip() for cell in record], reader.line_num
            break
    if header is None:
        raise HouseholdImportError([HouseholdProblem(1, "file", "is empty")])
    _check_header(header, line)
    count = 0
    for record in reader:
        start, line = line + 1, reader.line_num
        read[0] = line
        if not any(cell.strip() for cell in record):
            continue
        count += 1
        if count > MAX_ROWS:
            raise HouseholdImportError([HouseholdProblem(
                start, "file", f"has more than {MAX_ROWS:,} households")])
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            problems.append(HouseholdProblem(start, "row", f"has {len(record)} cells; the "
                                                           f"header has {len(header)}"))
            continue
        yield _Row(start, dict(zip(header, record, strict=False)))
    if not count:
        raise HouseholdImportError([HouseholdProblem(line, "file", "holds no households")])


def _check_header(header: list[str], line: int) -> None:
    check_header(header, line, columns=COLUMNS, required=REQUIRED, error=HouseholdImportError)


class _Checker:
    """One pass over the rows against one grid set, collecting problems instead of raising."""

    def __init__(self, grids: GridSet) -> None:
        frame = grids.frame
        self._tier = dict(zip(frame["code"], frame["tier"], strict=True))
        self._micros = frozenset(grids.tier(Tier.MICRO)["code"])
        self._numbered: dict[tuple[str, int], int] = {}
        self._seen: dict[tuple[str, ...], int] = {}
        self.problems: list[HouseholdProblem] = []

    def _problem(self, row: _Row, field: str, message: str) -> None:
        self.problems.append(HouseholdProblem(row.line, field, message,
                                              shown(row.text(field))))

    def households(self, rows: list[_Row]) -> list[Household]:
        found = [h for h in map(self._row, rows) if h is not None]
        if self.problems:
            raise HouseholdImportError(self.problems)
        return found

    def _row(self, row: _Row) -> Household | None:
        before = len(self.problems)
        micro, building = self._micro(row), self._building(row)
        for field, limit in (("address", 60), ("head", 30)):
            if not row.text(field):
                self._problem(row, field, "is empty")
            elif len(row.text(field)) > limit:
                self._problem(row, field, f"is longer than {limit} characters")
        phone = row.text("phone")
        if phone and not _PHONE.match(phone):
            self._problem(row, "phone", "must be 11 digits starting with 1, or empty")
        members, tags = self._members(row), self._tags(row)
        number = self._number(row, micro, building)
        self._repeated(row)
        if len(self.problems) > before or number is None or members is None:
            return None
        values = {"id": household_id(micro, building, number), "address": row.text("address"),
                  "head": row.text("head"), "phone": phone, "members": members, "tags": tags}
        try:
            return Household.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else "row"
                self._problem(row, field, error["msg"])
            return None

    def _micro(self, row: _Row) -> str:
        code = row.text("micro")
        if not code:
            self._problem(row, "micro", "is empty")
        elif code not in self._micros:
            tier = self._tier.get(code)
            self._problem(row, "micro", f"is a {tier} grid, not a micro-grid" if tier
                          else "is not a micro-grid of this grid set")
        return code

    def _building(self, row: _Row) -> int:
        text = row.text("building")
        if _NUMBER.match(text) and 1 <= int(text) <= MAX_BUILDING:
            return int(text)
        self._problem(row, "building", f"must be a whole number from 1 to {MAX_BUILDING}")
        return 0

    def _members(self, row: _Row) -> int | None:
        text = row.text("members")
        if _NUMBER.match(text) and 1 <= int(text) <= MAX_MEMBERS:
            return int(text)
        self._problem(row, "members", f"must be a whole number from 1 to {MAX_MEMBERS}")
        return None

    def _tags(self, row: _Row) -> tuple[SpecialTag, ...]:
        tags: list[SpecialTag] = []
        for name in (p.strip() for p in _TAG_SPLIT.split(row.text("tags"))):
            if not name:
                continue
            tag = TAG_NAMES.get(name) or TAG_NAMES.get(name.lower())
            if tag is None:
                known = ", ".join(f"{t.value} ({t.label})" for t in SpecialTag)
                self.problems.append(HouseholdProblem(
                    row.line, "tags", f"unknown tag; one of {known}", shown(name)))
            elif tag not in tags:
                tags.append(tag)
        return tuple(tags)

    def _number(self, row: _Row, micro: str, building: int) -> int | None:
        """The household's number in its building, in file order (None off the grid set)."""
        if micro not in self._micros or not building:
            return None
        number = self._numbered.get((micro, building), 0) + 1
        self._numbered[(micro, building)] = number
        if number == MAX_PER_BUILDING + 1:
            self._problem(row, "building", f"building {micro}-{building:02d} has more than "
                                           f"{MAX_PER_BUILDING} households (from this line)")
        return number if number <= MAX_PER_BUILDING else None

    def _repeated(self, row: _Row) -> None:
        key = tuple(row.text(f) for f in ("micro", "building", "address", "head"))
        if not all(key):
            return
        first = self._seen.setdefault(key, row.line)
        if first != row.line:
            self._problem(row, "address", f"is the same household as line {first} (same "
                                          f"micro-grid, building, address and householder)")
