"""The app factory: one Dash app on one Flask server, built from settings and a runtime."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import dash
from dash import html
from flask import Blueprint
from flask_socketio import SocketIO
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard import live, login
from dashboard.runtime import Runtime


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
    app.server.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    _register_api(app.server)
    login.install(app.server)
    _json_errors(app.server)
    if live_feed:
        socketio = SocketIO(app.server, async_mode="threading", logger=False,
                            engineio_logger=False)
        app.server.extensions["grid_dispatch_live"] = live.install(socketio, runtime)
    else:
        app.server.extensions["grid_dispatch_live"] = live.LiveHub(socketio=None,
                                                                   runtime=runtime)
    _register_pages()
    app.layout = html.Div(dash.page_container, id="root")
    _serve_local_tiles(app, settings)
    return app


MAX_BODY_BYTES = 4 * 1024 * 1024  # a full batch of 1,000 reports fits with room to spare


def _register_api(server) -> None:
    """Every module in ``dashboard.api`` that defines a blueprint ``bp`` is served."""
    import dashboard.api as api

    for info in sorted(pkgutil.iter_modules(api.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"dashboard.api.{info.name}")
        if isinstance(getattr(module, "bp", None), Blueprint):
            server.register_blueprint(module.bp)


def _json_errors(server) -> None:
    from flask import jsonify, request
    from werkzeug.exceptions import HTTPException

    from dispatch.store import StoreError

    @server.errorhandler(StoreError)
    def store_down(exc: StoreError):
        resp = jsonify(error="unavailable", message=f"storage unavailable, retry: {exc}",
                       field=None)
        resp.status_code = 503
        resp.headers["Retry-After"] = "1"
        return resp

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if not request.path.startswith(("/api/", "/open311/")):
            return exc
        field = "body" if exc.code == 413 else None
        message = (f"body is larger than {MAX_BODY_BYTES:,} bytes" if exc.code == 413
                   else exc.description)
        resp = jsonify(error=exc.name.lower().replace(" ", "-"), message=message, field=field)
        resp.status_code = exc.code
        return resp


def _register_pages() -> None:
    from dashboard.pages import situation

    dash.register_page("situation", path="/", layout=situation.layout, title="态势图")


def _serve_local_tiles(app: dash.Dash, settings) -> None:
    if settings.tiles != "local" or not settings.tiles_url:
        return
    from flask import send_from_directory

    folder = Path(settings.tiles_url).expanduser().resolve()

    @app.server.get("/tiles/<int:z>/<int:x>/<int:y>.png")
    def tile(z: int, x: int, y: int):
        return send_from_directory(folder, f"{z}/{x}/{y}.png", max_age=86400)
