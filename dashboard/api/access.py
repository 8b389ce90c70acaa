"""Identity for every request: a bearer token (APIs) or the signed-in session (pages)."""

from __future__ import annotations

from functools import wraps

from flask import current_app, jsonify, request
from flask_login import current_user

from dispatch.access.credentials import AuthError
from dispatch.access.roles import Actor, Role


def _runtime():
    return current_app.extensions["grid_dispatch"]


def current_actor() -> Actor | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return _runtime().auth.from_token(header[7:].strip())
    if current_user and current_user.is_authenticated:
        return Actor(name=current_user.id, role=Role(current_user.role))
    return None


def problem(status: int, error: str, message: str, *, field: str | None = None, **extra):
    body = {"error": error, "message": message, **extra}
    if field is not None:
        body["field"] = field
    resp = jsonify(body)
    resp.status_code = status
    return resp


def require(*roles: Role):
    """Only these roles may call the endpoint; the actor is passed as ``actor=``."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            try:
                actor = current_actor()
            except AuthError as exc:
                return problem(401, "unauthenticated", str(exc), field="Authorization")
            if actor is None:
                return problem(401, "unauthenticated",
                               "sign in or send 'Authorization: Bearer <token>'",
                               field="Authorization")
            if roles and actor.role not in roles:
                return problem(403, "forbidden", f"role {actor.role.value!r} may not do this "
                               f"(allowed: {[r.value for r in roles]})", field="role")
            return view(*args, actor=actor, **kwargs)

        return inner

    return wrap
