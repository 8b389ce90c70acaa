"""Open311 GeoReport v2 under /open311/v2/: discovery, services and service requests.

Every method answers in the format its URL ends with (.json or .xml), errors included, in the
spec's error array, so a GeoReport client written for any city works unchanged. The status
codes follow the spec's rule: 403 for a missing or wrong api_key, 404 for a resource (or a
POSTed service_code) that does not exist, 400 for everything else.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from dashboard.api.access import allow
from dashboard.api.fallback import allowed_methods
from dispatch.access.policy import AccessDenied, Permission, Unauthenticated
from dispatch.access.roles import Actor
from dispatch.channels.open311.intake import report_from_form, spec_errors
from dispatch.channels.open311.query import RequestQuery, find_requests, parse_query
from dispatch.channels.open311.spec import (
    Open311Error,
    SpecError,
    agency_responsible,
    discovery,
    request_view,
    service_definition,
    service_notice,
    services,
)
from dispatch.channels.open311.xml import to_xml
from dispatch.events.intake import MAX_IDEMPOTENCY_KEY, IntakeError
from dispatch.events.models import Outcome, categories

bp = Blueprint("open311", __name__)

PREFIX = "/open311/v2"
FMT = "<any(json, xml):fmt>"
P = Permission
CHANGESET = "2026-11-26T00:00:00+08:00"  # when the shape of these answers last changed
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _runtime():
    return current_app.extensions["grid_dispatch"]


def reply(fmt: str, root: str, payload: object, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, payload), status=status,
                        content_type="text/xml; charset=utf-8")
    return Response(json.dumps(payload, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")


def errors(fmt: str, exc: Open311Error) -> Response:
    body = [{"code": e.code, "description": e.description} for e in exc.errors]
    return reply(fmt, "errors", body, exc.status)


def _fmt_of_path() -> str:
    return "xml" if request.path.endswith(".xml") else "json"


@bp.get(f"{PREFIX}/discovery.{FMT}")
@allow(P.OPEN311_READ)
def get_discovery(fmt: str):
    url = request.host_url.rstrip("/") + PREFIX
    doc = discovery(url=url, contact=_runtime().settings.centre_name, changeset=CHANGESET)
    return reply(fmt, "discovery", doc)


@bp.get(f"{PREFIX}/services.{FMT}")
@allow(P.OPEN311_READ)
def get_services(fmt: str):
    return reply(fmt, "services", services())


@bp.get(f"{PREFIX}/services/<code>.{FMT}")
@allow(P.OPEN311_READ)
def get_service(code: str, fmt: str):
    return reply(fmt, "service_definition", service_definition(code))


@bp.get(f"{PREFIX}/requests.{FMT}")
@allow(P.OPEN311_READ)
def get_requests(fmt: str):
    runtime = _runtime()
    query = parse_query(request.args, now=runtime.clock.now())
    views = find_requests(query, events=runtime.events)
    agencies: dict[str, str] = {}  # many requests share a micro-grid: name its chain once
    return reply(fmt, "service_requests", [_request(v, agencies) for v in views])


@bp.get(f"{PREFIX}/requests/<request_id>.{FMT}")
@allow(P.OPEN311_READ)
def get_request(request_id: str, fmt: str):
    found = find_requests(RequestQuery(ids=(request_id,)), events=_runtime().events)
    if not found:
        raise Open311Error.one(404, "service_request_id",
                               f"service_request_id {request_id!r} was not found")
    return reply(fmt, "service_requests", [_request(found[0])])


def _request(view: dict, agencies: dict[str, str] | None = None) -> dict:
    agencies = {} if agencies is None else agencies
    micro = view["grid"]["micro"]
    if micro not in agencies:
        agencies[micro] = agency_responsible(view, grids=_runtime().grids)
    return request_view(view, agency=agencies[micro])


@bp.post(f"{PREFIX}/requests.{FMT}")
@allow(P.OPEN311_POST)
def post_request(fmt: str, *, actor: Actor):
    _check_form()
    report = report_from_form(request.form, idempotency_key=_idem_key(actor))
    created = _runtime().intake.submit(report, actor=actor)
    notice = service_notice(categories()[report.data.category].default_severity)
    body = [{"service_request_id": created.id, "service_notice": notice, "account_id": None}]
    return reply(fmt, "service_requests", body, 201 if created.outcome is Outcome.CREATED else 200)


def _check_form() -> None:
    if request.mimetype in _FORMS or (not request.mimetype and not request.content_length):
        return
    raise Open311Error.one(400, "body", f"Content-Type {request.mimetype!r}: send the "
                           "request as application/x-www-form-urlencoded")


def _idem_key(actor: Actor) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Open311Error.one(400, "Idempotency-Key", f"is {len(key)} characters; at most "
                                                       f"{MAX_IDEMPOTENCY_KEY}")
    return f"{actor.name}:open311:{key}" if key else ""


@bp.route(f"{PREFIX}/<path:rest>", methods=["GET", "POST"])
@allow(P.OPEN311_READ)
def unknown(rest: str):
    if allowed := allowed_methods(request.path):  # a resource, asked with another method
        raise Open311Error.one(405, "method", f"{request.method} is not allowed on "
                                              f"{request.path}; allowed: {', '.join(allowed)}")
    raise Open311Error.one(
        404, "url", f"{PREFIX}/{rest} is not a GeoReport v2 resource here (formats: .json, "
                    ".xml; start at discovery.json)")


def unavailable(message: str) -> Response:
    """Redis unreachable (answered by the app's outage handler): the spec's error array."""
    return errors(_fmt_of_path(), Open311Error.one(503, "service", message))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Failures inside these views (a body too large, a broken form) in the spec's format."""
    field = "body" if exc.code in (400, 413) else "url"
    return errors(_fmt_of_path(), Open311Error([SpecError(exc.code or 400, field,
                                                          exc.description or exc.name)],
                                               status=exc.code or 400))


@bp.errorhandler(Open311Error)
def spec_error(exc: Open311Error):
    return errors(_fmt_of_path(), exc)


@bp.errorhandler(IntakeError)
def intake_error(exc: IntakeError):
    return errors(_fmt_of_path(), spec_errors(exc))


@bp.errorhandler(AccessDenied)
def denied(exc: AccessDenied):
    """GeoReport answers every key problem with 403 naming ``api_key``; a body in the wrong
    format is named first, since no key can be read from it."""
    try:
        _check_form()
    except Open311Error as bad:
        return errors(_fmt_of_path(), bad)
    if isinstance(exc, Unauthenticated):
        given = request.form.get("api_key") or request.headers.get("Authorization")
        message = f"invalid api_key: {exc}" if given else "api_key was not provided"
    else:
        message = f"the api_key may not submit requests: {exc}"
    return errors(_fmt_of_path(), Open311Error.one(403, "api_key", message))
