"""What every import of a site's CSV file shares: a problem named by line and column, the
error carrying all of them, a row's cells, and reading the bytes as text (UTF-8 or GBK).

The importers (roster, households) check their own columns; a clerk gets every problem of a
file in one run, each as ``line N, FIELD: message (got 'VALUE')``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dispatch.channels.hotline.read import ENCODINGS

SHOWN = 80  # characters of a bad cell quoted back


@dataclass(frozen=True, slots=True)
class LineProblem:
    """One thing wrong in the file, where a clerk finds it: line, column, the cell's text."""

    line: int
    field: str
    message: str
    value: str = ""

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message} (got {self.value!r})"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message,
                "value": self.value}


class FileImportError(ValueError):
    """The file cannot be imported; carries every problem found, in line order."""

    def __init__(self, problems: list[LineProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: Mapping[str, str]

    def text(self, name: str) -> str:
        return self.cells.get(name, "").strip()


def shown(text: str) -> str:
    """A cell as quoted back: cut after :data:`SHOWN` characters."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def decode(data: bytes, *, error: type[FileImportError]) -> str:
    """The file as text, or ``error`` saying why it is not a CSV text file."""
    if not data.strip():
        raise error([LineProblem(1, "file", "is empty")])
    if b"\x00" in data:
        raise error([LineProblem(1, "file", "is not a CSV text file",
                                 shown(data[:SHOWN].hex()))])
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise error([LineProblem(1, "file", "is neither UTF-8 nor GBK text")])


def check_header(header: list[str], line: int, *, columns: Sequence[str],
                 required: Iterable[str], error: type[FileImportError]) -> None:
    """Every unknown, repeated or missing column of the header row at once."""
    problems = [LineProblem(line, "header", f"unknown column; the columns are "
                                            f"{', '.join(columns)}", name)
                for name in header if name not in columns]
    problems += [LineProblem(line, "header", "column given twice", name)
                 for name in sorted({n for n in header if n and header.count(n) > 1})]
    problems += [LineProblem(line, "header", f"missing column {name}", "")
                 for name in required if name not in header]
    if problems:
        raise error(problems)
