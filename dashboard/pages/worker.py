"""The grid worker's phone page (``/m/``): my tasks with their clocks, the steps I take on
them, my position, a report from where I stand, and the wish wall for party members.

A plain Flask page, not Dash: a phone on a weak connection loads one small HTML file, its
scripts (``assets/worker.js``, then its parts in ``assets/worker/``) and one style sheet.
The scripts talk to the JSON API with the session cookie. Sign-in is the password
form (``/login?next=/m/``) or a one-time link from ``grid-dispatch workers link``. Which steps
a worker may take, and the words for them, come from the lifecycle table here, so the script
never spells a status of its own.
"""

from __future__ import annotations

import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from flask.typing import ResponseReturnValue
from flask_login import login_user

from dashboard.api.access import allow
from dashboard.api.openapi import html
from dashboard.i18n import tier_label
from dashboard.pages.login import SESSION_TTL_S, User
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor
from dispatch.channels.resident.form import CHOICES
from dispatch.events.models import EventIn
from dispatch.store.links import LinkStore
from dispatch.tasks import lifecycle
from dispatch.tasks.lifecycle import STEPS, TaskStatus
from dispatch.tasks.service import MAX_TEXT
from geo.grids import UnknownGridError

bp = Blueprint("worker", __name__, url_prefix="/m")
P, T = Permission, TaskStatus
HOME = "/m/"
MAX_TOKEN = 100
MAX_DESCRIPTION = next(m.max_length for m in EventIn.model_fields["description"].metadata
                       if hasattr(m, "max_length"))

#: How each task status reads on the card: (Chinese, English).
STATUS_WORDS: dict[TaskStatus, tuple[str, str]] = {
    T.ASSIGNED: ("待接单", "Awaiting you"), T.ACCEPTED: ("已接单", "Accepted"),
    T.DECLINED: ("已退单", "Declined"), T.EN_ROUTE: ("在途", "On the way"),
    T.ON_SITE: ("在现场", "On site"), T.RESOLVED: ("已反馈 · 待核查", "Resolved · to check"),
    T.VERIFIED: ("已核查", "Verified"), T.CALLED_BACK: ("已回访", "Called back"),
    T.CLOSED: ("已结案", "Closed"), T.RETURNED: ("已收回改派", "Taken back"),
}
#: The button that takes a worker's step to each status: (Chinese, English).
ACTION_WORDS: dict[TaskStatus, tuple[str, str]] = {
    T.ACCEPTED: ("接单", "Accept"), T.DECLINED: ("退单", "Decline"),
    T.EN_ROUTE: ("出发", "On my way"), T.ON_SITE: ("到达现场", "I'm there"),
    T.RESOLVED: ("办结反馈", "Resolved"),
}


def vocabulary() -> dict[str, Any]:
    """What the script needs to know of tasks: statuses in words, which are open, the one
    whose clock is acceptance, and the worker's steps from each status with what they need."""
    steps: dict[str, list[dict[str, Any]]] = {}
    for (source, target), step in STEPS.items():
        if source is None or step.by is not lifecycle.Actor.WORKER:
            continue
        zh, en = ACTION_WORDS[target]
        steps.setdefault(source.value, []).append({
            "to": target.value, "zh": zh, "en": en, "reason": step.needs_reason,
            "note": step.needs_note, "photos": step.needs_note})
    return {
        "statuses": {s.value: list(STATUS_WORDS[s]) for s in T},
        "open": [s.value for s in T if s.open],
        "awaiting": T.ASSIGNED.value,
        "steps": steps,
        "tiers": {tier: [tier_label(tier, "zh"), tier_label(tier, "en")]
                  for tier in ("micro", "general", "total", "street")},
        "max_text": MAX_TEXT, "max_description": MAX_DESCRIPTION,
    }


@bp.get("/")
@allow(P.EVENT_HANDLE)
def page(*, actor: Actor) -> ResponseReturnValue:
    """The page itself; its data comes from the API, so it is the same for every worker."""
    runtime = _runtime()
    worker = runtime.workers.get(actor.name)
    on_roster = worker is not None
    me = {"id": actor.name, "name": worker.name if worker else actor.name,
          "role": worker.role.label if worker else "", "grid": _grid_name(worker),
          "party": bool(worker and worker.party_member)}
    return render_template(
        "worker/app.html", **_centre(), me=me, vocab=vocabulary(), choices=CHOICES,
        share=on_roster and permits(actor, P.POSITION_REPORT),
        wishes=bool(worker and worker.party_member) and permits(actor, P.WISH_CLAIM),
        max_text=MAX_TEXT, max_description=MAX_DESCRIPTION)


@bp.get("/link/<token>")
@allow(P.PUBLIC)
def link(token: str) -> ResponseReturnValue:
    """Sign in with a one-time link and go to the page; a link works once, within its TTL."""
    runtime = _runtime()
    account = LinkStore.of(runtime.store).redeem(token) if len(token) <= MAX_TOKEN else None
    actor = runtime.auth.user(account) if account else None
    if actor is None or not (permits(actor, P.PAGE_VIEW) and permits(actor, P.EVENT_HANDLE)):
        return render_template("worker/link_refused.html", **_centre()), 410
    current_app.session_interface.regenerate(session)  # no fixation
    login_user(User(actor))
    runtime.sessions.held(actor.name, session.sid, ttl_s=SESSION_TTL_S)
    return redirect(HOME)


@bp.after_request
def _headers(response: Response) -> Response:
    """Nothing from elsewhere, no inline code; the position for this page only."""
    response.headers["Content-Security-Policy"] = _policy()
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "geolocation=(self), camera=(self)"
    return response


def _policy() -> str:
    # 'self' covers ws: to this host in CSP 3; the explicit origins help older phone engines.
    # The Host header is the caller's to write: only a plain host name goes into the policy.
    host = request.host
    sockets = f" ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src 'self' blob: data:; connect-src 'self'{sockets}; form-action 'self'; "
            "base-uri 'none'; frame-ancestors 'none'")


_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?")


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _centre() -> dict[str, str]:
    settings = _runtime().settings
    return {"centre": settings.centre_name, "centre_en": settings.centre_name_en}


def _grid_name(worker) -> str:
    if worker is None:
        return ""
    try:
        return _runtime().grids.ref(worker.grid).name
    except UnknownGridError:
        return worker.grid


def install(server) -> None:
    """Serve the page on ``server`` (the app factory calls this)."""
    server.register_blueprint(bp)


#: Described with the API (``dashboard.api.openapi`` reads it): the page and the link.
OPENAPI_PATHS = {
    "/m/": {"get": {
        "summary": "The grid worker's phone page (tasks, steps, position, reports, wishes)",
        "tags": ["worker"],
        "responses": {"200": html("the page; its data comes from the JSON API")}}},
    "/m/link/{token}": {"get": {
        "summary": "Sign in with a one-time link from `grid-dispatch workers link`, then go "
                   "to /m/",
        "tags": ["worker"],
        "parameters": [{"name": "token", "in": "path", "required": True,
                        "schema": {"type": "string"}}],
        "responses": {"302": {"description": "signed in; sent to /m/", "headers": {
            "Location": {"required": True, "schema": {"type": "string"}}}},
            "410": html("the link is used, expired or unknown")}}},
}
