"""HTTP endpoints for geography: map layers (geobuf, ETag, gzip), locate, grid details, health."""

from __future__ import annotations

import math
import os

from flask import Blueprint, Response, abort, current_app, jsonify, request

from geo.grids import UnknownGridError

bp = Blueprint("geo", __name__)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def layer_url(runtime, name: str) -> str:
    """Digest-named URL of a served layer: a new grid set gets new URLs, so caching is safe."""
    return f"/geo/{runtime.grids.digest}/{name}.pbf"


@bp.get("/geo/<digest>/<name>.pbf")
def map_layer(digest: str, name: str) -> Response:
    runtime = _runtime()
    payload = runtime.payloads.get(name)
    if payload is None or digest != runtime.grids.digest:
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
def locate() -> Response:
    lon = _coordinate("lon", -180, 180)
    lat = _coordinate("lat", -90, 90)
    return jsonify(_runtime().locator.locate(lon, lat).as_dict())


@bp.get("/api/v1/grids/<code>")
def grid(code: str) -> Response:
    try:
        return jsonify(_runtime().grids.info(code))
    except UnknownGridError as exc:
        return jsonify(error="unknown-grid", field="code", message=str(exc)), 404


@bp.get("/api/v1/grids")
def summary() -> Response:
    return jsonify(_runtime().grids.summary())


@bp.get("/healthz")
def health() -> Response:
    runtime = _runtime()
    ok = runtime.store.ping()
    # The process id tells which worker behind a balancer answered.
    return jsonify(status="ok" if ok else "degraded", redis=ok,
                   grids=runtime.grids.digest, pid=os.getpid()), (200 if ok else 503)


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
