"""The served OpenAPI 3.1 document for every HTTP endpoint (``GET /openapi.json``).

Request bodies reuse the pydantic models' JSON Schema, so the document and the validation
cannot drift apart; a test checks that every route the app serves is described here.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from dashboard.api.access import allow
from dispatch.access.policy import Permission
from dispatch.events.models import EventIn, Severity, Source, Status

bp = Blueprint("openapi", __name__)

_BEARER = [{"bearer": []}]
_SESSION_OR_BEARER = [{"bearer": []}, {"session": []}]


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _op(summary: str, *, tags: list[str], security=None, params=None, body=None,
        responses: dict | None = None) -> dict:
    op = {"summary": summary, "tags": tags,
          "responses": responses or {"200": {"description": "OK"}}}
    if security is not None:
        op["security"] = security
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    return op


def _q(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


def _p(name: str, description: str = "") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"},
            "description": description}


def _json(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_EVENT_REF = {"$ref": "#/components/schemas/EventIn"}
_WRITE_ERRORS = {"400": _error("not JSON, or not an object"),
                 "401": _error("no or unknown token"), "403": _error("role may not write"),
                 "413": _error("body or batch too large"),
                 "422": _error("a field is invalid; `field` names it (a location outside the "
                               "district: `field` `lon,lat`, message `outside: …`)"),
                 "503": _error("storage unavailable; retry")}


def _event_paths() -> dict:
    filters = [
        _q("status", {"type": "string", "enum": [s.value for s in Status]}),
        _q("category", {"type": "string", "pattern": r"^\d{5}$"}),
        _q("grid", {"type": "string"}, "micro, general or total grid code"),
        _q("street", {"type": "string"}, "9-digit street code"),
        _q("since", {"type": "string"}, "epoch seconds or ISO 8601"),
        _q("until", {"type": "string"}, "epoch seconds or ISO 8601"),
        _q("overdue", {"type": "string", "enum": ["true", "false"]}),
        _q("offset", {"type": "integer", "minimum": 0}),
        _q("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ]
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "maxLength": 128},
            "description": "a retried report with the same key is stored once"}
    return {
        "/api/v1/events": {
            "post": _op("Report one event", tags=["events"], security=_SESSION_OR_BEARER,
                        params=[idem], body=_json(_EVENT_REF),
                        responses={"201": {"description": "created"},
                                   "200": {"description": "idempotent repeat"}, **_WRITE_ERRORS}),
            "get": _op("List events, newest first", tags=["events"],
                       security=_SESSION_OR_BEARER, params=filters,
                       responses={"200": {"description": "events"},
                                  "400": _error("a filter is invalid")}),
        },
        "/api/v1/events/batch": {
            "post": _op("Report up to 1,000 events at once: all stored or none", tags=["events"],
                        security=_SESSION_OR_BEARER,
                        body=_json({"type": "object", "required": ["events"], "properties": {
                            "events": {"type": "array", "maxItems": 1000,
                                       "items": _EVENT_REF}}}),
                        responses={"201": {"description": "created"}, **_WRITE_ERRORS}),
        },
        "/api/v1/events/{event_id}": {
            "get": _op("One event with its timeline", tags=["events"],
                       security=_SESSION_OR_BEARER, params=[_p("event_id")],
                       responses={"200": {"description": "event"}, "404": _error("unknown id")}),
        },
        "/api/v1/events/{event_id}/transitions": {
            "post": _op("Move an event one step (legal moves only, by allowed roles)",
                        tags=["events"], security=_SESSION_OR_BEARER, params=[_p("event_id")],
                        body=_json({"type": "object", "required": ["status"], "properties": {
                            "status": {"type": "string", "enum": [s.value for s in Status]},
                            "reason": {"type": "string", "maxLength": 500},
                            "assignee": {"type": "string"}, "satisfaction": {"type": "string"},
                            "note": {"type": "string"}}}),
                        responses={"200": {"description": "moved"},
                                   "403": _error("role may not make this move"),
                                   "404": _error("unknown id"),
                                   "409": _error("illegal from the current status"),
                                   "422": _error("a reason is required")}),
        },
        "/api/v1/live/changes": {
            "get": _op("Changes after a stream id, or a snapshot", tags=["live"],
                       security=_SESSION_OR_BEARER,
                       params=[_q("since", {"type": "string"}), _q("street", {"type": "string"})],
                       responses={"200": {"description": "delta or snapshot"},
                                  "400": _error("since is not a stream id")}),
        },
    }


def _grid_paths() -> dict:
    return {
        "/api/v1/grids": {"get": _op("Grid set summary", tags=["grids"])},
        "/api/v1/grids/locate": {"get": _op(
            "Micro, general, total grid and street of a WGS-84 point", tags=["grids"],
            params=[_q("lon", {"type": "number"}), _q("lat", {"type": "number"})],
            responses={"200": {"description": "codes, or outside: true"},
                       "400": _error("lon or lat missing or invalid")})},
        "/api/v1/grids/{code}": {"get": _op("One grid", tags=["grids"], params=[_p("code")],
                                            responses={"200": {"description": "grid"},
                                                       "404": _error("unknown code")})},
        "/geo/{digest}/{name}.pbf": {"get": _op(
            "A map layer (geobuf; gzip when accepted; ETag, immutable)", tags=["grids"],
            security=[{"session": []}], params=[_p("digest"), _p("name")],
            responses={"200": {"description": "geobuf"}, "304": {"description": "unchanged"},
                       "404": {"description": "unknown layer or stale digest"}})},
        "/healthz": {"get": _op("Health of the server and its Redis", tags=["ops"],
                                responses={"200": {"description": "ok"},
                                           "503": {"description": "Redis unreachable"}})},
        "/openapi.json": {"get": _op("This document", tags=["ops"])},
    }


def document() -> dict:
    paths = _event_paths() | _grid_paths()
    for extra in _extensions():
        paths |= extra
    return {
        "openapi": "3.1.0",
        "info": {"title": "grid-dispatch", "version": "1",
                 "description": "Dispatch centre for Pidu District's three-tier grids."},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "token from `grid-dispatch tokens create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "EventIn": EventIn.model_json_schema(),
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                    "problems": {"type": "array", "items": {"type": "object"}}}},
                "Severity": {"type": "string", "enum": [s.value for s in Severity]},
                "Source": {"type": "string", "enum": [s.value for s in Source]},
            },
        },
    }


def _extensions() -> list[dict]:
    """Paths that channel modules describe themselves (``OPENAPI_PATHS`` in their module)."""
    from dashboard import api

    return [paths for module in api.modules() if (paths := getattr(module, "OPENAPI_PATHS", None))]


@bp.get("/openapi.json")
@allow(Permission.PUBLIC)
def openapi():
    return jsonify(document())
