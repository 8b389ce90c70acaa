"""API tokens for an administrator: list, create (shown once), revoke.

The same as ``grid-dispatch tokens list|create|revoke``, for a site that manages its
integrations and devices from its own console.
"""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dashboard.api.openapi import PYTHON_SPACE, error, trimmed
from dispatch.access.credentials import TokenDeviceError, TokenNotFoundError, require_device
from dispatch.access.policy import Permission, scope_problem
from dispatch.access.roles import Role
from dispatch.access.scope import ScopeError, parse_scope

bp = Blueprint("tokens", __name__)
ROLES = [r.value for r in Role if r not in (Role.RESIDENT, Role.SYSTEM)]
MAX_DAYS = 3650


def _auth():
    return current_app.extensions["grid_dispatch"].auth


@bp.get("/api/v1/tokens")
@allow(Permission.TOKENS_MANAGE)
def list_tokens():
    return jsonify(tokens=[i.as_dict() for i in _auth().tokens()])


@bp.post("/api/v1/tokens")
@allow(Permission.TOKENS_MANAGE)
def create_token():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "invalid", "body must be a JSON object", field="body")
    name, role = body.get("name"), body.get("role")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 64:
        return problem(422, "invalid", "name: 1 to 64 characters", field="name")
    if role not in ROLES:
        return problem(422, "invalid", f"role: one of {ROLES}", field="role")
    if not isinstance(body.get("scope"), str | None):
        return problem(422, "invalid", "scope: a string such as 'street:510117006'",
                       field="scope")
    try:
        scope = parse_scope(str(body.get("scope") or "district"))
    except ScopeError as exc:
        return problem(422, "invalid", str(exc), field="scope")
    if wrong := scope_problem(Role(role), scope):
        return problem(422, "invalid", wrong, field="scope")
    days = body.get("expires_days", 365)
    if isinstance(days, bool) or not isinstance(days, int | float) or not math.isfinite(days) \
            or not 0 <= days <= MAX_DAYS:
        return problem(422, "invalid", f"expires_days: 0 (never) to {MAX_DAYS}",
                       field="expires_days")
    given = body.get("device")
    if given is not None and not isinstance(given, str):
        return problem(422, "invalid", "device must be the id of a registered device",
                       field="device")
    try:
        device = require_device(Role(role), given)
        token = _auth().create_token(name=name.strip(), role=Role(role), scope=scope,
                                     expires_in_s=days * 86400 if days else None, device=device)
    except TokenDeviceError as exc:
        return problem(422, "invalid", str(exc), field="device", device=exc.device)
    return jsonify(token=token, device=device or None,
                   note="shown once; only its hash is kept"), 201


@bp.delete("/api/v1/tokens/<token_id>")
@allow(Permission.TOKENS_MANAGE)
def revoke_token(token_id: str, *, actor):
    try:
        info = _auth().revoke(token_id, actor=actor.name)
    except TokenNotFoundError as exc:
        return problem(404, "not-found", str(exc), field="token_id")
    return jsonify(revoked=info.as_dict())


_BLANK = f"[{PYTHON_SPACE}]"
#: What parse_scope reads: nothing (the district), or a reach naming at least one code.
_SCOPE = (f"^(?:{_BLANK}*district{_BLANK}*|{_BLANK}*(?:street|grids):[\\s\\S]*"
          f"[^,{PYTHON_SPACE}][\\s\\S]*)$|^$")
_ADMIN = {"401": error("no or unknown token"), "403": error("not an administrator")}
OPENAPI_PATHS = {
    "/api/v1/tokens": {
        "get": {"summary": "Every live API token by id (never the token itself)",
                "tags": ["tokens"], "responses": {"200": {"description": "tokens"}, **_ADMIN}},
        "post": {"summary": "Create a token; the answer shows it once", "tags": ["tokens"],
                 "requestBody": {"required": True, "content": {"application/json": {
                     "schema": {"type": "object", "required": ["name", "role"], "properties": {
                         "name": trimmed(64, min_length=1, space=PYTHON_SPACE),
                         "role": {"type": "string", "enum": ROLES},
                         "device": {"type": ["string", "null"], "description":
                                    "required for role `device`, refused for the others: the "
                                    "registered device whose alarms the token may raise"},
                         "scope": {"type": ["string", "null"], "pattern": _SCOPE,
                                   "examples": ["district", "street:510117006"]},
                         "expires_days": {"type": "number", "minimum": 0,
                                          "maximum": MAX_DAYS}}}}}},
                 "responses": {"201": {"description": "the new token"},
                               "400": error("not a JSON object"),
                               "422": error("a field is invalid; `field` names it"), **_ADMIN}},
    },
    "/api/v1/tokens/{token_id}": {
        "delete": {"summary": "Revoke a token: its calls fail within a second, its websockets "
                              "close", "tags": ["tokens"],
                   "parameters": [{"name": "token_id", "in": "path", "required": True,
                                   "schema": {"type": "string", "minLength": 8}}],
                   "responses": {"200": {"description": "revoked"},
                                 "404": error("no token, or more than one, has this id"),
                                 **_ADMIN}},
    },
}
