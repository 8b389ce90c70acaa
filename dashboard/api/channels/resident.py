"""The residents' report form, opened from the QR code on each building (一码扫楼).

``GET /report?grid=<micro or general code>&b=<building>`` shows the form; ``POST /report``
stores one event (source ``resident``) and answers with a receipt, or the form again with
each problem beside its field. No sign-in: a signed one-time token per form, a per-address
rate limit and a strict content policy take its place. Whatever a resident typed is echoed
as escaped text only.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import TooManyRequests

from dashboard.api.access import allow
from dashboard.api.channels.resident_limits import init_limiter
from dashboard.pages.resident import duration, render
from dashboard.pages.resident_problems import field_errors, token_problem
from dashboard.runtime import Runtime
from dispatch.access.policy import Permission
from dispatch.access.roles import Actor, Role
from dispatch.channels.resident.form import (
    CHOICE_BY_CODE,
    CHOICES,
    MAX_ACCURACY_M,
    GridCodeError,
    building_label,
    micro_options,
    qr_grid,
    read_report,
)
from dispatch.channels.resident.token import FormToken, FormTokenError
from dispatch.events.intake import IntakeError
from dispatch.events.models import EventIn, Outcome, Severity, Status, categories
from dispatch.events.workflow import limit_minutes
from dispatch.privacy.disclosure import Disclosure
from geo.grids import GridRef

bp = Blueprint("resident", __name__)
RESIDENT = Actor(name="resident", role=Role.RESIDENT)
MAX_TEXT = next(m.max_length for m in EventIn.model_fields["description"].metadata
                if hasattr(m, "max_length"))
#: The page may load only what this host serves: no CDN, no inline code, no framing.
POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


@bp.record_once
def _limit_posts(state) -> None:
    runtime = state.app.extensions.get("grid_dispatch")
    if runtime is None:
        raise LookupError("app.extensions['grid_dispatch'] must hold the Runtime before the "
                          "resident blueprint is registered (its rate limit uses its Redis)")
    init_limiter(state.app, blueprint=bp, redis_url=runtime.redis_url)


@bp.get("/report")
@allow(Permission.RESIDENT_REPORT)
def form() -> ResponseReturnValue:
    """The form for the grid in the QR link, or a 400 page saying the code is not valid."""
    code = request.args.get("grid", "")
    try:
        ref = qr_grid(_runtime().grids, code)
    except GridCodeError:
        return _page("bad_grid", code=code), 400
    return _form(ref, values={}, errors={})


@bp.post("/report")
@allow(Permission.RESIDENT_REPORT)
def submit() -> ResponseReturnValue:
    """Store the report and show its receipt, or show the form again with every problem."""
    runtime, form = _runtime(), request.form
    try:
        ref = qr_grid(runtime.grids, form.get("grid", ""))
    except GridCodeError as exc:
        return _page("bad_grid", code=exc.code), 400
    try:
        nonce = _tokens().check(form.get("token", ""), grid=ref.code)
        report = read_report(form, ref=ref, grids=runtime.grids, locator=runtime.locator,
                             nonce=nonce)
        created = runtime.intake.submit(report, actor=RESIDENT)
    except FormTokenError as exc:
        return _form(ref, values=form, errors=field_errors([token_problem(exc)])), 422
    except IntakeError as exc:
        return _form(ref, values=form, errors=field_errors(exc.problems)), 422
    return _receipt(created.id, repeat=created.outcome is Outcome.REPEAT, qr=ref)


@bp.after_request
def _headers(response):
    """No caching (forms carry a token, receipts a phone number), no outside requests."""
    response.headers["Content-Security-Policy"] = POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "geolocation=(self)"
    return response


@bp.errorhandler(TooManyRequests)
def _too_many(exc: TooManyRequests) -> ResponseReturnValue:
    seconds = _retry_after(exc)
    wait = duration(max(1, -(-seconds // 60)))
    response = current_app.make_response(
        (_page("too_many", wait_zh=wait[0], wait_en=wait[1]), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def unavailable(_message: str) -> Response:
    """Redis unreachable (answered by the app's outage handler): nothing was saved, say so."""
    return current_app.make_response(_page("unavailable"))


def _runtime() -> Runtime:
    return current_app.extensions["grid_dispatch"]


def _tokens() -> FormToken:
    return FormToken(current_app.secret_key)


def _retry_after(exc: TooManyRequests) -> int:
    limit = getattr(exc, "limit", None)
    seconds = getattr(getattr(limit, "limit", None), "get_expiry", lambda: 60)()
    return int(seconds)


def _form(ref: GridRef, *, values: Mapping[str, str], errors: dict) -> str:
    grids = _runtime().grids
    building = building_label(values.get("b") or request.args.get("b", ""))
    return _page("form", qr=ref, building=building, values=values, errors=errors,
                 choices=CHOICES, options=micro_options(grids, ref), max_text=MAX_TEXT,
                 max_accuracy=int(MAX_ACCURACY_M), slots=_slots(ref),
                 where=_where(ref.code), token=_tokens().issue(ref.code))


def _slots(ref: GridRef) -> list[dict]:
    """Time slots published after a sweep for this micro-grid's buildings (testing, supply
    pick-up), each with its building in words; the resident finds their own."""
    if len(ref.code) != 17:
        return []
    found = _runtime().sweep.slots_for(ref.code)
    for slot in found:
        slot["building_label"] = f"{int(slot['building'][-2:])}栋"
        slot["day"], _, slot["from_time"] = slot["from"].partition("T")
        slot["to_time"] = slot["to"].partition("T")[2]
    return found


def _receipt(event_id: str, *, repeat: bool, qr: GridRef) -> str:
    # the reporter's own receipt: their report as they sent it, their phone masked
    event = _runtime().events.get(event_id, disclosure=Disclosure.MASKED)
    code = event["category"]["code"]
    choice = CHOICE_BY_CODE.get(code)
    category = choice.zh if choice else categories()[code].name
    minutes = limit_minutes(code, Severity(event["severity"]), Status.REPORTED) or 60
    verify = duration(minutes)
    by_phone = event["extra"].get("located_by") == "phone"
    return _page("receipt", event=event, repeat=repeat, category=category, by_phone=by_phone,
                 where=_where(event["grid"]["micro"]), verify_zh=verify[0],
                 verify_en=verify[1], qr_code=qr.code)


def _where(code: str) -> str:
    """The grid in words, street first: what a resident recognises."""
    info = _runtime().grids.info(code)
    return " › ".join(n for n in [info["street_name"], *(r["name"] for r in info["chain"])]
                      if n)


def _page(name: str, **context) -> str:
    settings = _runtime().settings
    return render(name, centre=(settings.centre_name, settings.centre_name_en), **context)
