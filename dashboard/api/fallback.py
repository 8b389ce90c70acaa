"""Every other ``/api/`` path: JSON 404, or 405 with ``Allow`` when only the method is wrong.

Without it the page router's catch-all would answer a mistyped API path with the page's HTML
and 200, which a client reads as success. An unknown Dash component path is a 404 too, and
every 405 (and answer to OPTIONS) under /api/ and /open311/ names in ``Allow`` only the
methods the resource answers.
"""

from __future__ import annotations

from dash.exceptions import DependencyException
from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dispatch.access.policy import Permission

bp = Blueprint("fallback", __name__)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/api/<path:rest>", methods=METHODS)
@allow(Permission.PUBLIC)
def unknown(rest: str) -> Response:
    allowed = allowed_methods(request.path)
    if allowed:
        resp = problem(405, "method-not-allowed", f"{request.method} is not allowed on "
                       f"{request.path}; allowed: {', '.join(allowed)}", field="method")
        resp.headers["Allow"] = allow_header(allowed)
        return resp
    return problem(404, "not-found", f"{request.path} is not an API resource; see "
                   "/openapi.json", field="path")


#: Routes that take any method under their prefix, so that a wrong one is answered in that
#: prefix's format: they are not what a path allows.
CATCH_ALLS = frozenset({f"{bp.name}.unknown", "open311.unknown"})


def allow_header(allowed: list[str]) -> str:
    return ", ".join([*allowed, "HEAD", "OPTIONS"] if "GET" in allowed
                     else [*allowed, "OPTIONS"])


def allowed_methods(path: str) -> list[str]:
    """The methods some other route answers at this path."""
    from flask import current_app

    adapter = current_app.url_map.bind("")
    found: dict[str, int] = {}
    for method in METHODS:
        try:
            rule, _ = adapter.match(path, method=method, return_rule=True)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if rule.endpoint not in CATCH_ALLS:
            found[method] = len(rule.arguments)
    # /api/v1/events/batch is its own resource, though GET reads it as an event id
    fewest = min(found.values(), default=0)
    return [method for method, arguments in found.items() if arguments == fewest]


@bp.after_app_request
def _allow(response: Response) -> Response:
    """`Allow` (on a 405, and on the automatic answer to OPTIONS) names the methods the
    resource answers; Flask's own would also list the catch-alls' methods, or be missing
    from a 405 turned into JSON."""
    wrong = response.status_code == 405 or (request.method == "OPTIONS" and
                                            "Allow" in response.headers)
    if wrong and request.path.startswith(("/api/", "/open311/")):
        allowed = allowed_methods(request.path)
        if allowed:
            response.headers["Allow"] = allow_header(allowed)
    return response


@bp.app_errorhandler(DependencyException)
def _no_such_asset(exc: DependencyException) -> Response:
    """A Dash component path naming no registered package or file is an unknown path like
    any other; Dash's own message would also list every registered file."""
    return problem(404, "not-found", f"{request.path} is not a served asset", field="path")
