"""HTTP endpoints for geography: map layers (geobuf, ETag, gzip), locate, grid details, health."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, current_app, jsonify, request

from dashboard.api.access import allow
from dispatch.access.policy import Permission

bp = Blueprint("geo", __name__)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def layer_url(runtime, name: str) -> str:
    """Digest-named URL of a served layer: a new grid set or coordinate system gets new URLs,
    so caching is safe."""
    return f"/geo/{runtime.layer_digest}/{name}.pbf"


@bp.get("/geo/<digest>/<name>.pbf")
@allow(Permission.GRID_READ)
def map_layer(digest: str, name: str) -> Response:
    runtime = _runtime()
    payload = runtime.payloads.get(name)
    if payload is None or digest != runtime.layer_digest:
        abort(404)
    etag = f'"{payload.etag}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(payload.gzipped, mimetype=payload.media_type, headers=headers)
    return Response(payload.body, mimetype=payload.media_type, headers=headers)


@bp.get("/api/v1/grids/locate")
@allow(Permission.GRID_READ)
def locate() -> Response:
    lon = _coordinate("lon", -180, 180)
    lat = _coordinate("lat", -90, 90)
    return jsonify(_runtime().locator.locate(lon, lat).as_dict())


@bp.get("/api/v1/grids/<code>")
@allow(Permission.GRID_READ)
def grid(code: str) -> Response:
    return jsonify(_runtime().grids.info(code))


@bp.get("/api/v1/grids")
@allow(Permission.GRID_READ)
def summary() -> Response:
    """Counts and people per tier, and where each map layer is served (in the map's
    coordinate system, ``display_coords``)."""
    runtime = _runtime()
    layers = {name: layer_url(runtime, name) for name in runtime.payloads}
    return jsonify(runtime.grids.summary() | {"layers": layers,
                                              "display_coords": runtime.display_coords.value})


#: How long /healthz waits for Redis: screens poll it to show an outage banner, so it must
#: answer promptly whether Redis refuses, replays its AOF, or hangs.
HEALTH_DEADLINE_S = 1.0


@bp.get("/healthz")
@allow(Permission.PUBLIC)
def health() -> Response:
    runtime = _runtime()
    probe = current_app.extensions.setdefault("grid_dispatch_probe", RedisProbe())
    ok = probe.alive(runtime.store.ping, deadline_s=HEALTH_DEADLINE_S)
    # The process id tells which worker behind a balancer answered.
    resp = jsonify(status="ok" if ok else "degraded", redis=ok,
                   grids=runtime.grids.digest, pid=os.getpid())
    resp.headers["Cache-Control"] = "no-store"
    if not ok:
        resp.status_code = 503
        resp.headers["Retry-After"] = "1"
    return resp


@dataclass
class _Ping:
    done: threading.Event = field(default_factory=threading.Event)
    ok: bool = False


class RedisProbe:
    """Pings Redis from one helper thread at a time and waits for it no longer than asked.

    The store's client retries a refused connection for a few seconds and has no read
    timeout, so a plain ping could hold a health check for seconds, or for good when Redis
    hangs; callers arriving meanwhile share the ping in flight rather than start more.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: _Ping | None = None

    def alive(self, ping: Callable[[], bool], *, deadline_s: float) -> bool:
        with self._lock:
            current = self._last
            if current is None or current.done.is_set():
                current = self._last = _Ping()
                threading.Thread(target=_run_ping, args=(ping, current), name="healthz-ping",
                                 daemon=True).start()
        return current.done.wait(deadline_s) and current.ok


def _run_ping(ping: Callable[[], bool], into: _Ping) -> None:
    try:
        into.ok = bool(ping())
    finally:
        into.done.set()


def _coordinate(name: str, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        abort(_problem(name, "is required"))
    try:
        value = float(raw)
    except ValueError:
        abort(_problem(name, f"{raw!r} is not a number"))
    if not math.isfinite(value) or not low <= value <= high:
        abort(_problem(name, f"{raw!r} is outside {low}..{high}"))
    return value


def _problem(field: str, message: str) -> Response:
    resp = jsonify(error="invalid", field=field, message=f"{field} {message}")
    resp.status_code = 400
    return resp
