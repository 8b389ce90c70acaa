"""The residents' report form, opened from the QR code on each building (一码扫楼).

No sign-in; rate-limited per address; every resident's word goes into the page as escaped
text (Jinja autoescape), never as HTML. A hidden one-time token is the idempotency key, so a
double tap on a slow phone stores one report.
"""

from __future__ import annotations

import math
import secrets

from flask import Blueprint, current_app, jsonify, render_template, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from dispatch.intake import Actor, IntakeError, Report, parse
from dispatch.models import Role, Source
from geo.grids import UnknownGridError
from geo.model import Tier

bp = Blueprint("resident", __name__, template_folder="../templates")
limiter = Limiter(key_func=get_remote_address, default_limits=[])
RESIDENT = Actor(name="resident", role=Role.RESIDENT)

#: What residents choose from, in their words, mapped to category codes.
CHOICES = (
    ("01001", "市容环境（垃圾、杂物）", "Rubbish, clutter"),
    ("06002", "设施损坏（路灯、井盖、护栏）", "Broken facilities"),
    ("11001", "安全隐患（消防、燃气、电动车）", "Safety hazard"),
    ("10001", "邻里纠纷", "Neighbour dispute"),
    ("15002", "噪声扰民", "Noise"),
    ("14002", "民生诉求（微心愿）", "A request for help"),
    ("99001", "其他", "Other"),
)
LIMITS = "5 per minute;30 per hour"


@bp.record_once
def _setup(state) -> None:
    runtime = state.app.extensions["grid_dispatch"]
    state.app.config.setdefault("RATELIMIT_STORAGE_URI", runtime.redis_url)
    state.app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(state.app)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _grid(code: str):
    grids = _runtime().grids
    try:
        ref = grids.ref(code)
    except UnknownGridError:
        return None
    return ref if ref.tier in (Tier.MICRO.value, Tier.GENERAL.value) else None


@bp.get("/report")
def form():
    code = request.args.get("grid", "")
    ref = _grid(code)
    if ref is None:
        return _page("bad_grid", code=code), 400
    return _render_form(ref, building=request.args.get("b", "")[:40], values={}, errors={})


@bp.post("/report")
@limiter.limit(LIMITS)
def submit():
    code = request.form.get("grid", "")
    ref = _grid(code)
    if ref is None:
        return _page("bad_grid", code=code), 400
    building = request.form.get("b", "")[:40]
    try:
        report = _report(ref, building)
        created = _runtime().intake.submit(report, actor=RESIDENT)
    except IntakeError as exc:
        errors = {p.field.split(",")[0]: p.message for p in exc.problems}
        return _render_form(ref, building=building, values=request.form, errors=errors), 422
    return _page("receipt", event_id=created.id, grid=ref.name)


def _report(ref, building: str) -> Report:
    token = request.form.get("token", "")
    lon, lat = _where(ref.code)
    payload = {
        "category": request.form.get("category", ""),
        "description": request.form.get("description", ""),
        "reporter_name": request.form.get("name", ""),
        "reporter_phone": request.form.get("phone", ""),
        "lon": lon, "lat": lat,
        "address": ref.name, "building": building,
    }
    return Report(data=parse(payload), source=Source.RESIDENT,
                  idempotency_key=f"resident:{token[:64]}" if token else "")


def _where(code: str) -> tuple[float, float]:
    """The phone's position if it gave one inside this grid's district, else the grid."""
    runtime = _runtime()
    try:
        lon, lat = float(request.form.get("lon", "")), float(request.form.get("lat", ""))
        if math.isfinite(lon) and math.isfinite(lat) and not runtime.locator.locate(lon,
                                                                                    lat).outside:
            return lon, lat
    except ValueError:
        pass
    point = runtime.grids.geometry(code).representative_point()
    return round(point.x, 6), round(point.y, 6)


def _render_form(ref, *, building: str, values, errors: dict) -> str:
    return _page("form", grid=ref, building=building, values=values, errors=errors,
                 choices=CHOICES, token=secrets.token_urlsafe(16))


def _page(name: str, **context) -> str:
    return render_template(f"resident/{name}.html", **context)


@bp.app_errorhandler(429)
def too_many(exc):
    if request.path.startswith("/report"):
        return _page("too_many"), 429
    return jsonify(error="too-many-requests", message=str(exc.description), field=None), 429
