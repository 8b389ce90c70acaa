"""Domain errors become HTTP answers here and nowhere else.

Views raise what the domain raises; this module picks the status and the JSON body (naming
the field and the problem). Channels with a protocol of their own (Open311, the residents'
form) answer in their own shape from their blueprint, ahead of these.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from flask import Flask, Response, current_app, jsonify, redirect, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from dashboard.api.access import CrossSiteError, NoRuleError
from dispatch.access.policy import AccessDenied, Unauthenticated
from dispatch.channels.hotline.orders import HotlineImportError
from dispatch.channels.iot.devices import UnknownDeviceError
from dispatch.events.intake import Fault, IntakeError
from dispatch.events.workflow import TransitionError
from dispatch.store.events import EventNotFoundError
from dispatch.store.tasks import TaskMovedError, TaskNotFoundError, TaskTakenError
from dispatch.tasks.lifecycle import StepError
from dispatch.tasks.service import UnknownWorkerError
from dispatch.workers.positions import PositionError
from geo.grids import UnknownGridError

#: Paths whose callers read JSON: the APIs, Dash's callbacks, the OpenAPI document.
JSON_PREFIXES = ("/api/", "/open311/", "/_dash-", "/openapi.json", "/healthz")
FAULT_STATUS = {Fault.MALFORMED: 400, Fault.INVALID: 422, Fault.TOO_LARGE: 413}
#: A refused move: a stale or impossible status conflicts, a role may not, the rest is input.
TRANSITION_STATUS = {"status": 409, "role": 403, "assignee": 403, "task": 409,
                     "worker": 422}


class BodyError(ValueError):
    """A request body field that is missing or malformed; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def json_object() -> dict[str, Any]:
    """The request's JSON body, which must be an object (else a 400 naming ``body``)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BodyError("body", "must be a JSON object")
    return body


class BoundedJSON(DefaultJSONProvider):
    """Flask's JSON, where a body nested past the parser's depth is bad input, not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("nested too deeply") from None


def json_problem() -> str:
    """Why the body did not read as JSON, for the message (only asked once it did not)."""
    raw = request.get_data(cache=True)
    if not raw:
        return " (the body is empty)"
    try:
        current_app.json.loads(raw)
    except ValueError as exc:
        return f" ({str(exc)[:120]})"
    return ""


def problem(status: int, error: str, message: str, *, field: str | None = None,
            **extra: Any) -> Response:
    body = {"error": error, "message": message, **extra}
    if field is not None:
        body["field"] = field
    resp = jsonify(body)
    resp.status_code = status
    return resp


def intake_problem(exc: IntakeError) -> Response:
    first = exc.problems[0]
    return problem(FAULT_STATUS[exc.fault], exc.fault.value if exc.fault is Fault.TOO_LARGE
                   else "invalid", str(exc), field=first.field,
                   problems=[p.as_dict() for p in exc.problems])


def denied(exc: AccessDenied) -> Response:
    if isinstance(exc, Unauthenticated):
        accept = request.accept_mimetypes  # no Accept header at all: a plain page fetch
        if not wants_json() and (not accept or accept.accept_html):
            return redirect(f"/login?{urlencode({'next': _this_url()})}")
        return problem(401, "unauthenticated", str(exc), field="Authorization")
    return problem(403, "forbidden", str(exc), field="role")


def _this_url() -> str:
    """Where to come back to after signing in, quoted: a path may hold any character,
    a line break among them, which no Location header may."""
    query = request.query_string.decode("latin-1")
    return quote(request.path) + (f"?{query}" if query else "")


def wants_json() -> bool:
    if request.path.startswith(JSON_PREFIXES) or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) \
        == "application/json"


def drill_handlers() -> dict[type[Exception], Any]:
    """Drill errors: each names the field (or the drill's state) that refused the request."""
    from dispatch.drills.models import DrillMoveError, KindError
    from dispatch.drills.muster import GeofenceError, ReasonError
    from dispatch.drills.planning import ScopeError, TeamError
    from dispatch.drills.scenarios import ScenarioError
    from dispatch.drills.sweep import EmptyBuildingError
    from dispatch.store.drills import (
        DrillNotFoundError,
        DrillStateError,
        NotParticipantError,
        StepBackError,
        UnknownHouseholdError,
    )

    return {
        DrillNotFoundError: lambda exc: problem(404, "not-found", str(exc), field="id"),
        DrillMoveError: lambda exc: problem(409, "illegal-transition", str(exc),
                                            field="action", current=exc.status),
        DrillStateError: lambda exc: problem(409, "conflict", str(exc), field="status",
                                             current=exc.current),
        KindError: lambda exc: problem(409, "wrong-kind", str(exc), field="kind"),
        NotParticipantError: lambda exc: problem(403, "not-called", str(exc), field="worker"),
        StepBackError: lambda exc: problem(409, "conflict", str(exc), field="step",
                                           current=exc.current),
        GeofenceError: lambda exc: problem(422, "outside-fence", str(exc), field="position",
                                           distance_m=None if exc.distance is None
                                           else round(exc.distance)),
        ReasonError: lambda exc: problem(422, "invalid", str(exc), field="reason"),
        ScopeError: lambda exc: problem(422, "invalid", str(exc), field="scope"),
        TeamError: lambda exc: problem(422, "invalid", str(exc), field=exc.field),
        ScenarioError: lambda exc: problem(422, "invalid", str(exc), field="scenario"),
        UnknownHouseholdError: lambda exc: problem(422, "unknown-household", str(exc),
                                                   field="household"),
        EmptyBuildingError: lambda exc: problem(422, "unknown-building", str(exc),
                                                field="building"),
    }


def install(server: Flask, *, max_body_bytes: int) -> None:
    server.json = BoundedJSON(server)
    handlers: dict[type[Exception], Any] = {
        AccessDenied: denied,
        CrossSiteError: lambda exc: problem(403, "cross-site", str(exc), field="Origin"),
        NoRuleError: lambda exc: problem(403, "forbidden", str(exc), field="endpoint"),
        IntakeError: intake_problem,
        EventNotFoundError: lambda exc: problem(404, "not-found", str(exc), field="id"),
        TransitionError: lambda exc: problem(TRANSITION_STATUS.get(exc.field, 422),
                                             "illegal-transition", str(exc), field=exc.field),
        StepError: lambda exc: problem(TRANSITION_STATUS.get(exc.field, 422),
                                       "illegal-step", str(exc), field=exc.field),
        TaskTakenError: lambda exc: problem(409, "taken", str(exc), field="event",
                                            task=exc.task_id, assignee=exc.worker_id),
        TaskMovedError: lambda exc: problem(409, "conflict", f"{exc}; reload and try again",
                                            field="status", current=exc.current),
        TaskNotFoundError: lambda exc: problem(404, "not-found", str(exc), field="id"),
        UnknownWorkerError: lambda exc: problem(422, "unknown-worker", str(exc),
                                                field="worker"),
        PositionError: lambda exc: problem(422, "invalid", str(exc), field=exc.field),
        BodyError: lambda exc: problem(422 if exc.field != "body" else 400, "invalid",
                                       str(exc), field=exc.field),
        UnknownGridError: lambda exc: problem(404, "unknown-grid", str(exc),
                                              field="code"),
        UnknownDeviceError: lambda exc: problem(404, "unknown-device", str(exc),
                                                field="device_id", device_id=exc.device_id),
        HotlineImportError: lambda exc: problem(
            422, "invalid", f"{len(exc.problems)} problem(s); nothing imported",
            field=exc.problems[0].field, line=exc.problems[0].line,
            problems=[p.as_dict() for p in exc.problems]),
    }
    handlers.update(drill_handlers())
    for error, handler in handlers.items():
        server.register_error_handler(error, handler)

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> HTTPException | Response:
        if request.path.startswith("/open311/"):  # no route matched: no blueprint to ask
            from dashboard.api.channels.open311 import http_error as spec_error

            return spec_error(exc)
        if not request.path.startswith("/api/"):
            return exc
        too_large = exc.code == 413
        message = (f"body is larger than {max_body_bytes:,} bytes" if too_large
                   else exc.description or exc.name)
        return problem(exc.code or 500, exc.name.lower().replace(" ", "-"), message,
                       field="body" if too_large else None)
