"""Reading a 12345 export: its encoding, its format, its columns, each row with its line number.

Exports come out of the hotline platform as CSV (often GBK, from Excel on Windows) or as
JSON lines (UTF-8). Columns are known by their Chinese headers or English names; columns we
have no use for are skipped rather than stored (data minimisation). Every problem carries
the line it is on and the column as the file names it, so a clerk can fix it in the file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _csv import Reader  # what csv.reader() returns


class HotlineFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"


#: Canonical field → the headers (Chinese first) a 12345 export may use for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("工单编号", "工单号", "order_no"),
    "received_at": ("受理时间", "来电时间", "received_at"),
    "category": ("诉求类别", "工单类别", "类别", "category"),
    "address": ("诉求地址", "事发地址", "地址", "address"),
    "lon": ("经度", "lon", "lng", "longitude"),
    "lat": ("纬度", "lat", "latitude"),
    "description": ("诉求内容", "工单内容", "描述", "description"),
    "caller_phone": ("来电号码", "联系电话", "caller_phone"),
    "caller_name": ("来电人", "联系人", "caller_name"),
    "signed_at": ("签收时间", "signed_at"),
    "reply": ("答复内容", "答复", "reply"),
    "callback": ("回访结果", "回访", "callback"),
    "satisfaction": ("满意度", "satisfaction"),
}
REQUIRED = ("order_no", "received_at", "lon", "lat", "description")
_CANONICAL = {header: name for name, headers in COLUMNS.items() for header in headers}
ENCODINGS = ("utf-8-sig", "gb18030")  # GB18030 reads every GBK file and then some
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


class HotlineImportError(ValueError):
    """The file cannot be imported; carries every problem found, in line order."""

    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("; ".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Row:
    """One work order: canonical field → (the column name in the file, the text)."""

    line: int
    cells: dict[str, tuple[str, str]]

    def text(self, name: str) -> str:
        return self.cells.get(name, ("", ""))[1].strip()

    def column(self, name: str) -> str:
        return self.cells.get(name, (COLUMNS[name][0], ""))[0]


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was in (UTF-8 first, then GBK/GB18030)."""
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    raise HotlineImportError([RowProblem(1, "file", "is neither UTF-8 nor GBK text")])


def detect_format(text: str, *, filename: str = "") -> HotlineFormat:
    suffix = filename.lower().rpartition(".")[2] if "." in filename else ""
    if suffix in ("jsonl", "ndjson", "json"):
        return HotlineFormat.JSONL
    if suffix == "csv":
        return HotlineFormat.CSV
    return HotlineFormat.JSONL if text.lstrip().startswith("{") else HotlineFormat.CSV


def read_rows(text: str, fmt: HotlineFormat) -> list[Row]:
    """Every non-blank row; raises HotlineImportError for rows that cannot even be read."""
    rows = _jsonl_rows(text) if fmt is HotlineFormat.JSONL else _csv_rows(text)
    if not rows:
        raise HotlineImportError([RowProblem(1, "file", "holds no work orders")])
    return rows


def _jsonl_rows(text: str) -> list[Row]:
    rows, problems = [], []
    # Records end at "\n" only: U+2028, U+0085 and the like are text inside a JSON string.
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(RowProblem(line, "json", f"is not JSON ({exc.msg})"))
            continue
        except RecursionError:
            problems.append(RowProblem(line, "json", "is nested too deeply"))
            continue
        except ValueError:  # an integer longer than the interpreter converts
            problems.append(RowProblem(line, "json", "holds a number too long to read"))
            continue
        if not isinstance(item, dict):
            problems.append(RowProblem(line, "json", "must be a JSON object"))
            continue
        cells = _cells({str(k): _cell(v) for k, v in item.items()})
        # A "\ud800" escape decodes to text no UTF-8 store can write: refused here, since
        # some columns (reply, call-back, category text) are kept without a model's check.
        broken = [column for column, text in cells.values() if _SURROGATE.search(text)]
        if broken:
            problems += [RowProblem(line, column, "holds a lone surrogate escape (\\ud800…), "
                                    "which is not text") for column in broken]
            continue
        rows.append(Row(line, cells))
    if problems:
        raise HotlineImportError(problems)
    return rows


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _cells(record: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {_CANONICAL[k.strip()]: (k.strip(), v) for k, v in record.items()
            if k.strip() in _CANONICAL}


def _csv_rows(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _csv_records(reader)
    except csv.Error as exc:  # e.g. a cell past the csv module's field size limit
        raise HotlineImportError([RowProblem(max(reader.line_num, 1), "csv",
                                             f"cannot be read ({exc})")]) from None


def _csv_records(reader: Reader) -> list[Row]:
    header, line = _header(reader)
    if header is None:
        return []
    missing = [COLUMNS[n][0] for n in REQUIRED if not any(h in header for h in COLUMNS[n])]
    if missing:
        raise HotlineImportError([RowProblem(line, "header", f"missing column {m}")
                                  for m in missing])
    rows, problems = [], []
    for record in reader:
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            problems.append(RowProblem(start, "row", f"has {len(record)} cells; the header "
                                                     f"has {len(header)}"))
            continue
        rows.append(Row(start, _cells(dict(zip(header, record, strict=False)))))
    if problems:
        raise HotlineImportError(problems)
    return rows


def _header(reader: Reader) -> tuple[list[str] | None, int]:
    for record in reader:
        if any(cell.strip() for cell in record):
            return [cell.strip() for cell in record], reader.line_num
    return None, 0
