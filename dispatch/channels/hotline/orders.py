"""12345 hotline work orders imported as events, all of a file or none of it.

Every row is checked (fields, dates, coordinates inside the district, order numbers unique)
before anything is written, so a clerk gets the whole list of problems at once and a bad file
stores nothing. Then the rows go in one ``submit_many`` per 1,000. Each order's idempotency
key is ``12345:<order number>``: importing the same export again, or the rest of a file after
a failure part-way, stores no order twice; a permanent order index (order number → event
id) keeps that true after the idempotency keys have expired, as overlapping exports weeks
apart need.

The order number becomes the event's external id; the hotline's own fields (signed-for time,
reply, call-back, satisfaction, its category text) ride along in ``extra["hotline"]``. The
caller's phone becomes the reporter phone, which intake masks before storing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, TypeVarTuple

import numpy as np
import shapely

from dispatch import localtime
from dispatch.access.roles import Actor
from dispatch.channels.hotline.read import (
    HotlineFormat,
    HotlineImportError,
    Row,
    RowProblem,
    decode,
    detect_format,
    read_rows,
)
from dispatch.events.intake import MAX_BATCH, Intake, IntakeError, Report, parse
from dispatch.events.models import EventIn, Outcome, Satisfaction, Source, categories
from dispatch.store.hotline import HotlineStore
from geo.crs import CoordSystem, to_wgs84
from geo.locate import OUTSIDE, Locator

_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")

HOTLINE_CATEGORY = "14001"
DESCRIPTION_MAX = 2000
SATISFACTION = {"满意": Satisfaction.SATISFIED, "基本满意": Satisfaction.FAIRLY,
                "不满意": Satisfaction.DISSATISFIED, **{s.value: s for s in Satisfaction}}
#: EventIn field → the canonical hotline field it came from (to name the file's column).
_SOURCE_FIELD = {"external_id": "order_no", "occurred_at": "received_at", "lon": "lon",
                 "lat": "lat", "description": "description", "address": "address",
                 "reporter_phone": "caller_phone", "reporter_name": "caller_name",
                 "category": "category"}

__all__ = ["HotlineFormat", "HotlineImportError", "ImportResult", "RowProblem",
           "import_orders", "reports_from"]


@dataclass(frozen=True, slots=True)
class ImportResult:
    rows: int
    created: int
    repeats: int
    encoding: str
    format: str

    def as_dict(self) -> dict[str, Any]:
        return {"created": self.created, "repeats": self.repeats, "rows": self.rows,
                "encoding": self.encoding, "format": self.format}


def import_orders(data: bytes, *, intake: Intake, locator: Locator, orders: HotlineStore,
                  actor: Actor, fmt: HotlineFormat | None = None, filename: str = "",
                  coords: CoordSystem = CoordSystem.WGS84) -> ImportResult:
    """Validate the whole file, then store the orders not stored before.

    Raises HotlineImportError naming each problem; nothing is stored then.
    """
    text, encoding = decode(data)
    fmt = HotlineFormat(fmt) if fmt else detect_format(text, filename=filename)
    reports = reports_from(read_rows(text, fmt), locator=locator, coords=CoordSystem(coords))
    known = orders.known(r.data.external_id for r in reports)
    fresh = [r for r in reports if r.data.external_id not in known]
    created = 0
    for start in range(0, len(fresh), MAX_BATCH):
        batch = fresh[start:start + MAX_BATCH]
        results = intake.submit_many(batch, actor=actor)
        orders.remember({r.data.external_id: c.id for r, c in zip(batch, results, strict=True)})
        created += sum(c.outcome is Outcome.CREATED for c in results)
    return ImportResult(rows=len(reports), created=created, repeats=len(reports) - created,
                        encoding=encoding, format=fmt.value)


def reports_from(rows: Sequence[Row], *, locator: Locator,
                 coords: CoordSystem = CoordSystem.WGS84) -> list[Report]:
    """One report per row, or HotlineImportError with every problem in every row, the
    locations outside the district among them, in line order."""
    problems: list[RowProblem] = []
    good: list[tuple[Row, Report]] = []
    for row in rows:
        try:
            good.append((row, _report(row)))
        except HotlineImportError as exc:
            problems += exc.problems
    problems += _duplicates(rows)
    reports = _to_wgs84([r for _, r in good], coords)
    problems += _outside([row for row, _ in good], reports, locator)
    if problems:
        raise HotlineImportError(sorted(problems, key=lambda p: p.line))
    return reports


def _report(row: Row) -> Report:
    """One row as a report; every problem in the row is named, not just the first."""
    problems = [RowProblem(row.line, row.column(n), "is required")
                for n in ("order_no", "received_at", "lon", "lat", "description")
                if not row.text(n)]

    def attempt(fn: Callable[[*_Args], _T], *args: *_Args) -> _T | None:
        try:
            return fn(*args)
        except HotlineImportError as exc:
            problems.extend(exc.problems)
            return None

    received = attempt(_time, row, "received_at") if row.text("received_at") else None
    lon = attempt(_number, row, "lon") if row.text("lon") else None
    lat = attempt(_number, row, "lat") if row.text("lat") else None
    category, category_text = _category(row.text("category"))
    description = row.text("description")
    extra = attempt(_extra, row, received, category_text, description)
    payload = {
        "category": category, "lon": lon or 0.0, "lat": lat or 0.0,
        "description": _clip(description), "address": row.text("address"),
        "reporter_name": row.text("caller_name"), "reporter_phone": row.text("caller_phone"),
        "external_id": row.text("order_no"), "occurred_at": received and received.isoformat(),
    }
    data = attempt(_parse, row, payload, {p.field for p in problems})
    if problems or data is None:  # data is None only when a problem was recorded
        raise HotlineImportError(problems)
    return Report(data=data, source=Source.HOTLINE,
                  idempotency_key=f"12345:{data.external_id}", extra={"hotline": extra})


def _parse(row: Row, payload: dict[str, Any], reported: set[str]) -> EventIn:
    """Our own validation of the row, skipping columns already found wanting."""
    try:
        return parse(payload)
    except IntakeError as exc:
        columns = [(row.column(_SOURCE_FIELD.get(p.field, "description")), p.message)
                   for p in exc.problems]
        raise HotlineImportError([RowProblem(row.line, column, message)
                                  for column, message in columns
                                  if column not in reported]) from None


def _category(text: str) -> tuple[str, str]:
    """A known 5-digit code is ours; anything else is the hotline's own category text."""
    return (text, "") if text in categories() else (HOTLINE_CATEGORY, text)


def _clip(text: str) -> str:
    return text if len(text) <= DESCRIPTION_MAX else text[:DESCRIPTION_MAX - 1] + "…"


def _time(row: Row, name: str) -> datetime:
    try:
        return localtime.parse(row.text(name))
    except ValueError:
        message = f"{row.text(name)!r} is not a date-time such as 2024-05-01 09:30:00"
        raise HotlineImportError([RowProblem(row.line, row.column(name), message)]) from None


def _number(row: Row, name: str) -> float:
    try:
        value = float(row.text(name))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise HotlineImportError([RowProblem(row.line, row.column(name),
                                             f"{row.text(name)!r} is not a number")])
    return value


def _extra(row: Row, received: datetime | None, category_text: str,
           description: str) -> dict[str, str]:
    signed = _time(row, "signed_at").isoformat() if row.text("signed_at") else ""
    satisfaction = row.text("satisfaction")
    if satisfaction and satisfaction not in SATISFACTION:
        raise HotlineImportError([RowProblem(row.line, row.column("satisfaction"),
                                             f"{satisfaction!r} is not 满意, 基本满意 or 不满意")])
    extra = {"order_no": row.text("order_no"),
             "received_at": received.isoformat() if received else "",
             "category_text": category_text, "signed_at": signed, "reply": row.text("reply"),
             "callback": row.text("callback"),
             "satisfaction": SATISFACTION[satisfaction].value if satisfaction else ""}
    if len(description) > DESCRIPTION_MAX:
        extra["content"] = description  # the event shows the first 2,000 characters
    return {k: v for k, v in extra.items() if v}


def _duplicates(rows: Sequence[Row]) -> list[RowProblem]:
    first: dict[str, int] = {}
    problems = []
    for row in rows:
        order = row.text("order_no")
        if order and order in first:
            problems.append(RowProblem(row.line, row.column("order_no"),
                                       f"order {order!r} is already on line {first[order]}"))
        first.setdefault(order, row.line)
    return problems


def _to_wgs84(reports: list[Report], coords: CoordSystem) -> list[Report]:
    if coords is CoordSystem.WGS84:
        return reports
    points = to_wgs84(shapely.points([r.data.lon for r in reports],
                                     [r.data.lat for r in reports]), coords)
    xy = shapely.get_coordinates(points)
    return [Report(data=r.data.model_copy(update={"lon": float(x), "lat": float(y)}),
                   source=r.source, idempotency_key=r.idempotency_key, extra=r.extra)
            for r, (x, y) in zip(reports, xy, strict=True)]


def _outside(rows: Sequence[Row], reports: Sequence[Report],
             locator: Locator) -> list[RowProblem]:
    if not reports:
        return []
    idx = locator.indices(np.array([r.data.lon for r in reports]),
                          np.array([r.data.lat for r in reports]))
    return [RowProblem(row.line, f"{row.column('lon')},{row.column('lat')}",
                       "outside: the location is not inside any grid of the district")
            for row, i in zip(rows, idx, strict=True) if i == OUTSIDE]
