"""Every other ``/api/`` path: JSON 404, or 405 with ``Allow`` when only the method is wrong.

Without it the page router's catch-all would answer a mistyped API path with the page's HTML
and 200, which a client reads as success.
"""

from __future__ import annotations

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
    allowed = _allowed(request.path)
    if allowed:
        resp = problem(405, "method-not-allowed", f"{request.method} is not allowed on "
                       f"{request.path}; allowed: {', '.join(allowed)}", field="method")
        resp.headers["Allow"] = ", ".join([*allowed, "HEAD", "OPTIONS"]
                                          if "GET" in allowed else [*allowed, "OPTIONS"])
        return resp
    return problem(404, "not-found", f"{request.path} is not an API resource; see "
                   "/openapi.json", field="path")


def _allowed(path: str) -> list[str]:
    """The methods some other route answers at this path."""
    from flask import current_app

    adapter = current_app.url_map.bind("")
    found = []
    for method in METHODS:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except (NotFound, MethodNotAllowed, RequestRedirect):
            continue
        if endpoint != f"{bp.name}.unknown":
            found.append(method)
    return found
