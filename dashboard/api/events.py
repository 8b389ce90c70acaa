"""REST JSON for events: report one or a batch, list with filters, read one, move one."""

from __future__ import annotations

import math
from collections.abc import Container
from datetime import datetime

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import access, allow
from dashboard.api.errors import json_problem, problem
from dispatch.access.policy import Permission, require
from dispatch.access.roles import Role
from dispatch.events.intake import (
    MAX_BATCH,
    MAX_IDEMPOTENCY_KEY,
    Fault,
    IntakeError,
    Problem,
    Report,
    parse,
)
from dispatch.events.models import Outcome, Satisfaction, Source, Status, categories
from dispatch.events.service import MOVE_FIELDS, EventFilter, place
from dispatch.localtime import CST
from dispatch.privacy.disclosure import disclosure_for

bp = Blueprint("events", __name__)

R, P = Role, Permission
_SOURCE_BY_ROLE = {R.OPERATOR: Source.OPERATOR, R.ADMIN: Source.OPERATOR,
                   R.WORKER: Source.WORKER, R.INTEGRATION: Source.API}


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _body():
    data = request.get_json(silent=True)
    if data is None:
        raise IntakeError([Problem("body", "must be JSON (Content-Type: application/json)"
                                   f"{json_problem()}")], fault=Fault.MALFORMED)
    return data


@bp.post("/api/v1/events")
@allow(P.EVENT_REPORT)
def create_event(*, actor):
    report = Report(data=parse(_body()), source=_SOURCE_BY_ROLE[actor.role],
                    idempotency_key=_idem_key(actor))
    created = _runtime().intake.submit(report, actor=actor)
    status = 201 if created.outcome is Outcome.CREATED else 200
    return jsonify(id=created.id, outcome=created.outcome), status


@bp.post("/api/v1/events/batch")
@allow(P.EVENT_REPORT)
def create_batch(*, actor):
    body = _body()
    items = body.get("events") if isinstance(body, dict) else body
    if not isinstance(items, list) or not items:
        raise IntakeError([Problem("events", "must be a non-empty list of events")],
                          fault=Fault.MALFORMED)
    if len(items) > MAX_BATCH:
        raise IntakeError([Problem("events", f"at most {MAX_BATCH} events per batch, "
                                             f"got {len(items)}")], fault=Fault.TOO_LARGE)
    reports = _parse_all(items, actor)
    created = _runtime().intake.submit_many(reports, actor=actor)
    return jsonify(events=[{"id": c.id, "outcome": c.outcome} for c in created]), 201


def _parse_all(items: list, actor) -> list[Report]:
    reports, problems = [], []
    fault = Fault.INVALID
    source = _SOURCE_BY_ROLE[actor.role]
    for i, item in enumerate(items):
        try:
            key = item.pop("idempotency_key", "") if isinstance(item, dict) else ""
            if not isinstance(key, str):
                raise IntakeError([Problem("idempotency_key", "must be a string", i)],
                                  fault=Fault.MALFORMED)
            reports.append(Report(data=parse(item, index=i), source=source,
                                  idempotency_key=_scoped(actor, str(key), field=
                                                          "idempotency_key", index=i)
                                  if key else ""))
        except IntakeError as exc:
            problems += [Problem(p.field, p.message, i) for p in exc.problems]
            if exc.fault is Fault.MALFORMED:  # one unreadable item makes the batch a 400
                fault = Fault.MALFORMED
    if problems:
        raise IntakeError(problems, fault=fault)
    return reports


def _idem_key(actor) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    return _scoped(actor, key, field="Idempotency-Key") if key else ""



def _scoped(actor, key: str, *, field: str, index: int | None = None) -> str:
    """The caller's key, refused when too long: cutting it would make two reports one."""
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise IntakeError([Problem(field, f"is {len(key)} characters; at most "
                                          f"{MAX_IDEMPOTENCY_KEY}", index)],
                          fault=Fault.MALFORMED)
    return f"{actor.name}:{key}"


@bp.get("/api/v1/events")
@allow(P.EVENT_READ)
def list_events():
    try:
        flt = _filter(request.args)
    except ValueError as exc:
        field = str(exc).partition(": ")[0]
        return problem(400, "invalid", str(exc), field=field)
    actor = access().actor
    found = _runtime().events.list(flt, disclosure=disclosure_for(actor), actor=actor)
    return jsonify(events=found, offset=flt.offset, limit=flt.limit)


def _filter(args) -> EventFilter:
    def number(name, cast, lo=None, hi=None):
        raw = args.get(name)
        if raw is None:
            return None
        try:
            value = cast(raw) if raw.isascii() else cast("")  # int() reads any script's digits
        except ValueError:
            raise ValueError(f"{name}: {raw!r} is not a valid {cast.__name__}") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"{name}: {raw!r} is out of range")
        return value

    status = args.get("status")
    if status is not None and status not in {s.value for s in Status}:
        raise ValueError(f"status: {status!r} is not a status")
    overdue = args.get("overdue")
    if overdue not in (None, "true", "false"):
        raise ValueError(f"overdue: {overdue!r} must be true or false")
    exercise = args.get("exercise")
    if exercise not in (None, "true", "false"):
        raise ValueError(f"exercise: {exercise!r} must be true (drill events only) or false "
                         "(real events only)")
    grids = _runtime().grids
    return EventFilter(
        status=Status(status) if status else None,
        category=_known(args, "category", categories(), "category code"),
        grid=_known(args, "grid", grids, "grid code"),
        street=_known(args, "street", grids.street_codes, "street code"),
        since=_time(args.get("since"), "since"), until=_time(args.get("until"), "until"),
        overdue=None if overdue is None else overdue == "true",
        exercise=None if exercise is None else exercise == "true",
        offset=number("offset", int, 0, MAX_OFFSET) or 0,
        limit=number("limit", int, 1, 1000) or 100,
        scope=access().scope, reader=access().actor.name if access().actor else "",
    )


def _known(args, name: str, known: Container[str], what: str) -> str | None:
    """A code that names nothing is a typo, not an empty result: say so."""
    raw = args.get(name)
    if raw and raw not in known:
        raise ValueError(f"{name}: {raw!r} is not a known {what}")
    return raw


MAX_OFFSET = 1_000_000  # past every event a district keeps, and within Redis's integers
EARLIEST, LATEST = 0.0, 4_102_444_800.0  # 1970-01-01 and 2100-01-01, epoch seconds


def _time(raw: str | None, name: str) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = _iso(raw, name)
    if not math.isfinite(value):  # "nan" and "inf" parse as floats but are no time
        raise ValueError(f"{name}: {raw!r} is not a finite time")
    if not EARLIEST <= value <= LATEST:  # the store keeps millisecond integers
        raise ValueError(f"{name}: {raw!r} is outside 1970–2100")
    return value


def _iso(raw: str, name: str) -> float:
    """ISO 8601; without an offset it is Beijing time, whatever zone the server runs in."""
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is neither epoch seconds nor ISO 8601") from None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=CST)).timestamp()
    except (OverflowError, ValueError):  # 0001-01-01 east of UTC falls before year 1
        raise ValueError(f"{name}: {raw!r} is outside 1970–2100") from None


@bp.get("/api/v1/events/<event_id>")
@allow(P.EVENT_READ)
def get_event(event_id: str, *, actor):
    return jsonify(_runtime().events.get(
        event_id, timeline=True, disclosure=disclosure_for(actor), actor=actor,
        check=lambda view: _in_scope(view, actor, P.EVENT_READ)))


def _in_scope(view: dict, actor, permission: Permission) -> None:
    """An event outside the caller's streets or grids, and not assigned to them, is refused
    like any other permission."""
    require(actor, permission, **place(view), assignee=view["assignee"])


@bp.post("/api/v1/events/<event_id>/transitions")
@allow(P.EVENT_MOVE)
def move_event(event_id: str, *, actor):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "status" not in body:
        return problem(400, "invalid", "body must be JSON with 'status'", field="status")
    try:
        target = Status(str(body["status"]))
    except ValueError:
        return problem(422, "invalid", f"{body['status']!r} is not a status", field="status")
    for name in ("reason", *MOVE_FIELDS):  # refused, never cut: a cut reason says less
        if name in body and not (isinstance(body[name], str) and len(body[name]) <= 500):
            return problem(422, "invalid", f"{name}: text of at most 500 characters",
                           field=name)
    extra = {k: str(v)[:500] for k, v in body.items() if k in MOVE_FIELDS}
    if "satisfaction" in extra and extra["satisfaction"] not in {s.value for s in Satisfaction}:
        return problem(422, "invalid", f"satisfaction {extra['satisfaction']!r} is not one of "
                       f"{[s.value for s in Satisfaction]}", field="satisfaction")
    view = _runtime().events.move(event_id, target, actor=actor,
                                  reason=str(body.get("reason", ""))[:500], extra=extra)
    return jsonify(view)
