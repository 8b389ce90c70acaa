"""The app factory: one Dash app on one Flask server, built from settings and a runtime."""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path

import dash
from dash import html
from flask import Blueprint, Response, current_app, jsonify, request
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import live, sessions
from dashboard.api import access, errors
from dashboard.api.access import allow
from dashboard.i18n import pick_lang, t
from dashboard.pages import login, worker
from dashboard.runtime import Runtime
from dispatch.access.policy import Permission
from dispatch.store.errors import OUTAGE_ERRORS, outage_message
from dispatch.store.errors import outage_cause as outage_cause  # read by others from here


def assets_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "assets", here / "_assets"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"assets folder not found next to {here}")


def create_app(*, runtime: Runtime, live_feed: bool = True) -> dash.Dash:
    """Build the web app. ``runtime`` carries the settings, Redis store and grid set.

    ``live_feed=False`` builds it for a plain WSGI server (``grid-dispatch http``): pages,
    APIs and HTTP catch-up, but no Socket.IO endpoint; a balancer sends ``/socket.io/`` to a
    ``grid-dispatch serve`` process instead.
    """
    settings = runtime.settings
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(assets_dir()),
        # The worker page's parts: assets/worker.js loads them on /m/ only, never on Dash's.
        assets_path_ignore=["^worker$"],
        serve_locally=True,
        title=settings.centre_name,
        update_title=None,
        suppress_callback_exceptions=True,
        compress=False,
    )
    app.server.secret_key = settings.secret_key or runtime.store.shared_secret()
    if settings.trusted_proxies:  # behind nginx: per-client limits need the real address
        app.server.wsgi_app = ProxyFix(app.server.wsgi_app, x_for=settings.trusted_proxies,
                                       x_proto=settings.trusted_proxies)
    app.server.extensions["grid_dispatch"] = runtime
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    secure = settings.secure_cookies
    if secure is None:
        secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    app.server.after_request(_page_headers)
    _register_api(app.server)
    sessions.install(app.server, sessions=runtime.sessions, secure=secure)
    login.install(app.server)
    worker.install(app.server)
    access.install(app.server)
    errors.install(app.server, max_body_bytes=MAX_BODY_BYTES)
    _outage_answers(app.server)
    if live_feed:
        socketio = SocketIO(app.server, async_mode="threading", logger=False,
                            engineio_logger=False)
        app.server.extensions["grid_dispatch_live"] = live.install(socketio, runtime)
    else:
        app.server.extensions["grid_dispatch_live"] = live.LiveHub(socketio=None,
                                                                   runtime=runtime)
    _register_pages(app)
    app.layout = html.Div(dash.page_container, id="root")
    _serve_local_tiles(app, settings)
    return app


def _page_headers(response: Response) -> Response:
    """No framing (clickjacking of the operators' moves), no sniffing, no referrers out.
    A channel with its own policy (the residents' form) keeps it."""
    response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


MAX_BODY_BYTES = 4 * 1024 * 1024  # a full batch of 1,000 reports fits with room to spare


def _register_api(server) -> None:
    """Every module under ``dashboard.api`` that defines a blueprint ``bp`` is served."""
    from dashboard import api

    for module in api.modules():
        if isinstance(getattr(module, "bp", None), Blueprint):
            server.register_blueprint(module.bp)


RETRY_AFTER_API_S = 1
RETRY_AFTER_PAGE_S = 5
_OUTAGE_LOG_EVERY_S = 5.0


def _outage_answers(server) -> None:
    """The one place a Redis outage becomes an answer: 503 with Retry-After, never a 500.

    It covers errors raised in views, in before-request hooks (the sign-in guard, whose
    user lookup reads Redis) and in Dash callbacks. Each channel gets its own shape: JSON
    for the APIs and callbacks, the GeoReport error array for Open311, the residents' page
    for the form, and a small self-refreshing page in the screen's language elsewhere.
    """
    from dashboard.api.channels import open311, resident

    channels = {"open311": (open311.unavailable, RETRY_AFTER_API_S),
                "resident": (resident.unavailable, RETRY_AFTER_PAGE_S)}

    def unavailable(exc: Exception):
        login.signed_out_for_this_request()
        _log_outage(exc)
        message = outage_message(exc)
        channel = channels.get(request.blueprint or "")
        if channel is not None:
            render, retry = channel
            response = render(message)
        elif errors.wants_json():
            response = jsonify(error="unavailable", message=message, field=None)
            retry = RETRY_AFTER_API_S
        else:
            response, retry = _outage_page(), RETRY_AFTER_PAGE_S
        response.status_code = 503
        response.headers["Retry-After"] = str(retry)
        response.headers["Cache-Control"] = "no-store"
        return response

    for error in OUTAGE_ERRORS:
        server.register_error_handler(error, unavailable)


def _outage_page() -> Response:
    """A page that says what is wrong and reloads itself; it reads nothing from Redis."""
    from flask import render_template

    # Flask-Login's template context loads the signed-in user, which would read Redis again.
    login.signed_out_for_this_request()
    settings = current_app.extensions["grid_dispatch"].settings
    lang = pick_lang(request.args.get("lang"), request.cookies.get("lang"),
                     default=settings.language)
    centre = settings.centre_name_en if lang == "en" else settings.centre_name
    body = render_template("outage.html", lang=lang, retry=RETRY_AFTER_PAGE_S, centre=centre,
                           title=t("outage.title", lang), retrying=t("outage.retrying", lang))
    return Response(body, mimetype="text/html")


class _OutageLog:
    """One log line per few seconds while Redis is down, with how many requests it cost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = float("-inf")
        self._since = 0

    def __call__(self, exc: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            self._since += 1
            if now - self._last < _OUTAGE_LOG_EVERY_S:
                return
            count, self._since, self._last = self._since, 0, now
        current_app.logger.warning("data service unavailable: %d request(s) answered 503; "
                                   "last: %s %s: %s", count, request.method, request.path, exc)


_log_outage = _OutageLog()


#: The Dash pages: each registers its route and its callbacks on the app it is given.
PAGES = ("dashboard.pages.situation", "dashboard.pages.drills")


def _register_pages(app: dash.Dash) -> None:
    for name in PAGES:
        importlib.import_module(name).register(app)


def _serve_local_tiles(app: dash.Dash, settings) -> None:
    if settings.tiles != "local" or not settings.tiles_url:
        return
    from flask import send_from_directory

    folder = Path(settings.tiles_url).expanduser().resolve()

    @app.server.get("/tiles/<int:z>/<int:x>/<int:y>.png")
    @allow(Permission.PAGE_VIEW)
    def tile(z: int, x: int, y: int):
        return send_from_directory(folder, f"{z}/{x}/{y}.png", max_age=86400)
