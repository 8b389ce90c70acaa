"""The gate every HTTP request passes: who is asking, and whether the endpoint's permission
lets them through.

Each view names its permission with :func:`allow`; the endpoints Flask and Dash add
themselves are named in :data:`FRAMEWORK`. One ``before_request`` hook asks
:func:`dispatch.access.policy.require` for every request, so an endpoint with no entry is
refused rather than left open, and the answer's shape is chosen in one place
(:mod:`dashboard.api.errors`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask_login import current_user

from dispatch.access.credentials import AuthError
from dispatch.access.policy import Permission, Unauthenticated, require
from dispatch.access.roles import Actor
from dispatch.access.scope import Scope

P = Permission

#: Endpoints registered by Flask and Dash rather than by our views.
FRAMEWORK: dict[str, Permission] = {
    "static": P.PUBLIC,
    "_dash_assets.static": P.PUBLIC,
    "/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>": P.PUBLIC,
    "/_favicon.ico": P.PUBLIC,
    "/_reload-hash": P.PUBLIC,
    "/_dash-layout": P.PAGE_VIEW,
    "/_dash-dependencies": P.PAGE_VIEW,
    "/_dash-update-component": P.PAGE_VIEW,  # and each callback asks for its own
    "/": P.PAGE_VIEW,
    "/<path:path>": P.PAGE_VIEW,
}

_ATTR = "grid_dispatch_permission"


@dataclass(frozen=True, slots=True)
class Access:
    """What the gate let through: the actor (``None`` for anonymous) and their scope."""

    actor: Actor | None
    scope: Scope
    permission: Permission


def allow(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Name a view's permission; a view with an ``actor`` parameter receives the caller."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        wants_actor = "actor" in inspect.signature(view).parameters

        @wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if wants_actor:
                kwargs["actor"] = g.access.actor
            return view(*args, **kwargs)

        setattr(inner, _ATTR, permission)
        return inner

    return mark


def permission_of(server: Flask, endpoint: str) -> Permission | None:
    """The permission an endpoint was declared with, or ``None`` when it has no entry."""
    view = server.view_functions.get(endpoint)
    return getattr(view, _ATTR, None) or FRAMEWORK.get(endpoint)


def access() -> Access:
    """The gate's verdict for this request."""
    return g.access


class NoRuleError(LookupError):
    """An endpoint nobody gave a permission: refused, so a new route is closed by default."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"endpoint {endpoint!r} has no access rule")
        self.endpoint = endpoint


def install(server: Flask) -> None:
    @server.before_request
    def gate() -> None:
        endpoint = request.endpoint
        if endpoint is None:  # no route: Flask answers 404
            return
        permission = permission_of(server, endpoint)
        if permission is None:
            raise NoRuleError(endpoint)
        actor = identify()
        if actor is not None and not _token() and request.method not in SAFE_METHODS:
            _same_origin()
        g.access = Access(actor=actor, scope=require(actor, permission), permission=permission)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _same_origin() -> None:
    """A write made with a session cookie must come from our own pages. SameSite=Lax keeps
    the cookie off most cross-site writes already; this refuses the rest by their Origin."""
    origin = request.headers.get("Origin")
    if not origin:
        return  # browsers send Origin with every write; a program without it has no cookie jar
    ours = {f"{request.scheme}://{request.host}"}
    if public := current_app.extensions["grid_dispatch"].settings.public_url:
        parts = urlsplit(public)
        ours.add(f"{parts.scheme}://{parts.netloc}")
    if origin not in ours:
        raise CrossSiteError(origin)


class CrossSiteError(PermissionError):
    """A cookie-authenticated write from another site's page."""

    def __init__(self, origin: str) -> None:
        super().__init__(f"cross-site request refused: Origin {origin!r} is not this site")
        self.origin = origin


def identify() -> Actor | None:
    """The caller: a bearer token (or Open311's ``api_key``) first, else the signed-in page
    user, else nobody. A token that is unknown or revoked is refused, not ignored."""
    token = _token()
    if token:
        try:
            return current_app.extensions["grid_dispatch"].auth.from_token(token)
        except AuthError as exc:
            raise Unauthenticated(str(exc), permission=P.PUBLIC) from exc
    if current_user.is_authenticated:  # not bool(current_user): that hides a StoreError
        return current_user.actor
    return None


def _token() -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    if request.blueprint == "open311" and request.method == "POST":
        return (request.form.get("api_key") or "").strip()
    return ""


def current_actor() -> Actor | None:
    """The caller outside the gate's request hook (Socket.IO's connect, Dash callbacks)."""
    found = g.get("access")
    return found.actor if found is not None else identify()
