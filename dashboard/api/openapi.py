"""The served OpenAPI 3.1 document for every HTTP endpoint (``GET /openapi.json``).

Request bodies reuse the pydantic models' JSON Schema, so the document and the validation
cannot drift apart; where a model strips white space or checks against the district's own
tables, the schema says the same, so a request the document calls valid is one the server
takes. The answers every route shares (the access gate's 401/403, a Redis outage's 503) are
added from the app's URL map and grant table, not written per route. A test checks that
every route the app serves is described here and that every ``$ref`` resolves.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import Blueprint, Flask, current_app, has_app_context, jsonify
from pydantic import BaseModel

from dashboard.api.access import allow, permission_of
from dashboard.api.events import MAX_OFFSET
from dispatch.access.policy import Permission, grant
from dispatch.channels.iot.devices import FIRST_YEAR, LAST_YEAR, AlarmIn, DeviceIn
from dispatch.events.intake import MAX_BATCH, MAX_IDEMPOTENCY_KEY
from dispatch.events.models import EventIn, Outcome, Satisfaction, Status, categories

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
SESSION_OR_BEARER = [{"bearer": []}, {"session": []}]

#: White space pydantic strips from a model's strings (``str_strip_whitespace``).
MODEL_SPACE = r"\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
#: White space Python's ``str.strip()`` removes: the same and the four separators 1C–1F.
PYTHON_SPACE = MODEL_SPACE.replace(r"\r ", r"\r\u001c-\u001f ")


def trimmed(max_length: int, *, min_length: int = 0, space: str = MODEL_SPACE) -> dict:
    """A string whose length is checked once its surrounding white space is stripped.

    Length keywords would count that white space, so the rule is a pattern instead.
    """
    edge, blank = f"[^{space}]", f"[{space}]"
    if max_length == 1:
        core = edge
    elif min_length <= 1:
        core = f"{edge}(?:[\\s\\S]{{0,{max_length - 2}}}{edge})?"
    else:
        core = f"{edge}[\\s\\S]{{{min_length - 2},{max_length - 2}}}{edge}"
    if min_length == 0:
        core = f"(?:{core})?"
    return {"type": "string", "pattern": f"^{blank}*{core}{blank}*$",
            "description": f"{min_length} to {max_length} characters once surrounding white "
                           "space is stripped"}


def date_time(first_year: int, last_year: int, *, offset: bool = True) -> str:
    """ISO 8601 date-times within these years, as every reader here parses them.

    Days stop at 28 so that every month the pattern allows is a real date.
    """
    years = "|".join(f"{y:04d}" for y in range(first_year, last_year + 1))
    zone = r"(?:Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])?" if offset else ""
    return (rf"(?:{years})-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])"
            rf"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{{1,6}})?{zone}")


def error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}


def html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {
        "type": "string"}}}}


def ok(description: str, schema: dict | None = None) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def op(summary: str, *, tags: list[str], params: list | None = None,
       body: dict | None = None, responses: dict) -> dict:
    found: dict[str, Any] = {"summary": summary, "tags": tags, "responses": responses}
    if params:
        found["parameters"] = params
    if body:
        found["requestBody"] = body
    return found


def query(name: str, schema: dict, description: str = "", *, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def path(name: str, description: str = "", schema: dict | None = None) -> dict:
    return {"name": name, "in": "path", "required": True,
            "schema": schema or {"type": "string"}, "description": description}


def json_body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def model_schema(model: type[BaseModel]) -> tuple[dict, dict]:
    """A model's JSON Schema with its nested models hoisted: (schema, components)."""
    schema = model.model_json_schema(ref_template=REF)
    return schema, schema.pop("$defs", {})


# --- events ----------------------------------------------------------------------------

_STATUSES = [s.value for s in Status]
_EVENT_REF = {"$ref": REF.format(model="EventIn")}
_KEY = {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY}
#: ``+`` and a digit, then digits, spaces and dashes; at most 20 characters, none blank at
#: the end (they would be stripped, leaving a shorter number).
_PHONE = r"(?:\+[0-9][0-9 \-]{4,17}[0-9\-]|[0-9][0-9 \-]{4,18}[0-9\-])"
_URL = (r"^https?://[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,30}"
        r"[a-z0-9])?){0,4}(?::[1-9][0-9]{0,3})?(?:/[A-Za-z0-9._~%-]{0,40}){0,5}$")


def _event_in() -> tuple[dict, dict]:
    """EventIn as the model checks it: known categories, stripped text, http(s) links."""
    schema, defs = model_schema(EventIn)
    props = schema["properties"]
    props["category"]["enum"] = sorted(categories())
    props["description"] = trimmed(2000, min_length=1) | {"title": "Description"}
    for name in ("address", "building", "reporter_name", "external_id"):
        length = next(m.max_length for m in EventIn.model_fields[name].metadata
                      if hasattr(m, "max_length"))
        props[name] = trimmed(length) | {"title": props[name]["title"], "default": ""}
    blank = f"[{MODEL_SPACE}]"
    props["reporter_phone"] = {"title": "Reporter Phone", "type": "string", "default": "",
                               "pattern": f"^{blank}*{_PHONE}?{blank}*$"}
    props["attachments"]["items"] = {"type": "string", "format": "uri", "pattern": _URL}
    return schema, defs


def _event_paths(streets: list[str] | None) -> dict:
    since = {"type": "string", "pattern": r"^(?:[0-9]{1,9}(?:\.[0-9]{1,6})?|"
                                          f"{date_time(1971, 2099)})$"}
    filters = [
        query("status", {"type": "string", "enum": _STATUSES}),
        query("category", {"type": "string", "enum": ["", *sorted(categories())]},
              "empty: any category"),
        query("grid", {"type": "string", "pattern": r"^(?:[0-9]{14}(?:[0-9]{3})?)?$"},
              "micro, general or total grid code (empty: any); one that names no grid is "
              "a 400"),
        query("street", {"type": "string", "enum": ["", *sorted(streets)]} if streets
              else {"type": "string", "pattern": r"^(?:[0-9]{9})?$"},
              "9-digit street code (empty: any)"),
        query("since", since, "epoch seconds or ISO 8601 (Beijing time without an offset)"),
        query("until", since, "epoch seconds or ISO 8601 (Beijing time without an offset)"),
        query("overdue", {"type": "string", "enum": ["true", "false"]}),
        query("exercise", {"type": "string", "enum": ["true", "false"]},
              "true: events raised by drills only; false: real events only"),
        query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
        query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}),
    ]
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
            "description": "a retried report with the same key is stored once; over "
                           f"{MAX_IDEMPOTENCY_KEY} characters is a 400, never cut"}
    created = {"type": "object", "required": ["id", "outcome"], "properties": {
        "id": {"type": "string"}, "outcome": {"type": "string",
                                              "enum": [o.value for o in Outcome]}}}
    write = {"400": error("not JSON, not an object, or an idempotency key over "
                          f"{MAX_IDEMPOTENCY_KEY} characters; `field` names it"),
             "413": error("body over the size limit, or a batch over "
                          f"{MAX_BATCH:,} events"),
             "422": error("a field is invalid; `field` names it (a location outside the "
                          "district: `field` `lon,lat`, message `outside: …`)")}
    events = {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
              "items": {"$ref": REF.format(model="BatchItem")}}
    move = {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "string", "enum": _STATUSES},
        "reason": {"type": "string", "maxLength": 500},
        "assignee": {"type": "string", "maxLength": 500},
        "satisfaction": {"type": "string", "enum": [s.value for s in Satisfaction]},
        "note": {"type": "string", "maxLength": 500}}}
    event_id = path("event_id", "the id an accepted report was given")
    return {
        "/api/v1/events": {
            "post": op("Report one event", tags=["events"], params=[idem],
                       body=json_body(_EVENT_REF),
                       responses={"201": ok("created", created),
                                  "200": ok("idempotent repeat", created), **write}),
            "get": op("List events, newest first", tags=["events"], params=filters,
                      responses={"200": ok("events"),
                                 "400": error("a filter is invalid; `field` names it")}),
        },
        "/api/v1/events/batch": {
            "post": op(f"Report up to {MAX_BATCH:,} events at once: all stored or none",
                       tags=["events"],
                       body=json_body({"oneOf": [
                           {"type": "object", "required": ["events"],
                            "properties": {"events": events}},
                           events]}),
                       responses={"201": ok("created", {"type": "object", "properties": {
                           "events": {"type": "array", "items": created}}}), **write}),
        },
        "/api/v1/events/{event_id}": {
            "get": op("One event with its timeline", tags=["events"], params=[event_id],
                      responses={"200": ok("event"), "404": error("unknown id")}),
        },
        "/api/v1/events/{event_id}/transitions": {
            "post": op("Move an event one step (legal moves only, by allowed roles)",
                       tags=["events"], params=[event_id], body=json_body(move),
                       responses={"200": ok("moved"),
                                  "400": error("not a JSON object with `status`"),
                                  "404": error("unknown id"),
                                  "409": error("illegal from the current status"),
                                  "422": error("a field is invalid, or a reason is required"),
                                  "413": error("body over the size limit")}),
        },
        "/api/v1/live/changes": {
            "get": op("Changes after a stream id, or a snapshot", tags=["live"], params=[
                query("since", {"type": "string", "pattern": f"^(?:{_U64}-{_U64})?$"},
                      "a stream id from an earlier answer; empty for a snapshot"),
                query("street", {"type": "string"}, "one street's feed")],
                responses={"200": ok("delta or snapshot"),
                           "400": error("since is not a stream id")}),
        },
    }


def at_most(bound: str) -> str:
    """A regular expression for the decimal numbers of up to ``len(bound)`` digits that are
    not above ``bound`` (leading zeros allowed), as Redis reads a stream id's parts."""
    shorter = f"[0-9]{{1,{len(bound) - 1}}}"
    below = [f"{bound[:i]}[0-{int(d) - 1}][0-9]{{{len(bound) - i - 1}}}"
             for i, d in enumerate(bound) if d != "0"]
    return f"(?:{'|'.join([shorter, *below, bound])})"


_U64 = at_most(str(2**64 - 1))


# --- geography, operations -------------------------------------------------------------

def _grid_paths() -> dict:
    layer = {"description": "geobuf", "headers": {
        "ETag": {"required": True, "schema": {"type": "string"}},
        "Cache-Control": {"required": True, "schema": {"type": "string"}}},
        "content": {"application/x-protobuf": {"schema": {"type": "string"}}}}
    return {
        "/api/v1/grids": {"get": op("Grid set summary", tags=["grids"],
                                    responses={"200": ok("counts and layer URLs")})},
        "/api/v1/grids/locate": {"get": op(
            "Micro, general, total grid and street of a WGS-84 point", tags=["grids"],
            params=[query("lon", {"type": "number", "minimum": -180, "maximum": 180},
                          required=True),
                    query("lat", {"type": "number", "minimum": -90, "maximum": 90},
                          required=True)],
            responses={"200": ok("codes, or outside: true"),
                       "400": error("lon or lat missing or invalid")})},
        "/api/v1/grids/{code}": {"get": op(
            "One grid", tags=["grids"], params=[path("code")],
            responses={"200": ok("grid"), "404": error("unknown code")})},
        "/geo/{digest}/{name}.pbf": {"get": op(
            "A map layer (geobuf; gzip when accepted; ETag, immutable)", tags=["grids"],
            params=[path("digest"), path("name")],
            responses={"200": layer, "304": {"description": "unchanged"},
                       "404": html("unknown layer or stale digest")})},
        "/healthz": {"get": op("Health of the server and its Redis", tags=["ops"],
                               responses={"200": ok("ok"), "503": {
                                   "description": "Redis unreachable",
                                   "headers": {"Retry-After": {"required": True,
                                                               "schema": {"type": "string"}}},
                                   "content": {"application/json": {"schema": {
                                       "type": "object"}}}}})},
        "/openapi.json": {"get": op("This document", tags=["ops"],
                                    responses={"200": ok("OpenAPI 3.1")})},
    }


# --- IoT ---------------------------------------------------------------------------------

def _iot_schemas() -> dict:
    device, device_defs = model_schema(DeviceIn)
    alarm, alarm_defs = model_schema(AlarmIn)
    alarm["properties"]["device_id"] = trimmed(64, min_length=1) | {"title": "Device Id"}
    alarm["properties"]["alarm_id"] = trimmed(64) | {"title": "Alarm Id", "default": ""}
    alarm["properties"]["value"] = {"title": "Value", "default": None, "anyOf": [
        {"type": "number"}, trimmed(100), {"type": "null"}]}
    alarm["properties"]["at"] = {"title": "At", "default": None, "anyOf": [
        {"type": "string", "pattern": f"^{date_time(FIRST_YEAR, LAST_YEAR - 1)}$"},
        {"type": "null"}]}
    device["properties"]["name"] = trimmed(100) | {"title": "Name", "default": ""}
    device["properties"]["address"] = trimmed(200) | {"title": "Address", "default": ""}
    return {"DeviceIn": device, "AlarmIn": alarm, **device_defs, **alarm_defs}


def _iot_paths() -> dict:
    tags = ["iot"]
    return {
        "/api/v1/iot/devices": {
            "post": op("Register or update a device (location → grid chain)", tags=tags,
                       body=json_body({"$ref": REF.format(model="DeviceIn")}),
                       responses={"201": ok("registered"), "200": ok("updated"),
                                  "400": error("not a JSON object"),
                                  "413": error("body over the size limit"),
                                  "422": error("a field is invalid, or the location is "
                                               "outside the district; `field` names it")}),
            "get": op("List registered devices", tags=tags,
                      responses={"200": ok("devices")}),
        },
        "/api/v1/iot/devices/{device_id}": {"get": op(
            "One device", tags=tags, params=[path("device_id")],
            responses={"200": ok("device"), "404": error("unknown device")})},
        "/api/v1/iot/alarms": {"post": op(
            "An alarm from a device: one event per device and alarm within the dedupe window",
            tags=tags, body=json_body({"$ref": REF.format(model="AlarmIn")}),
            responses={"201": ok("created"), "200": ok("folded into the open event, or a "
                                                       "repeat of the same alarm_id"),
                       "400": error("not a JSON object"),
                       "404": error("unknown device_id"),
                       "413": error("body over the size limit"),
                       "422": error("a field is invalid; `field` names it")})},
    }


# --- the gate, outages ---------------------------------------------------------------------

#: Paths whose answers are not JSON: pages and files, which send a browser to sign in.
_PAGES = ("/geo/", "/report", "/m/")
_OPEN311 = "/open311/"


def openapi_path(rule: str) -> str:
    """A Flask rule (``/a/<any(x, y):fmt>``) as an OpenAPI path (``/a/{fmt}``)."""
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def _permissions(server: Flask) -> dict[tuple[str, str], Permission]:
    found = {}
    for rule in server.url_map.iter_rules():
        permission = permission_of(server, rule.endpoint)
        for method in rule.methods or ():
            if permission is not None:
                found.setdefault((openapi_path(rule.rule), method.lower()), permission)
    return found


def _refusals(url: str, permission: Permission) -> dict:
    """What the gate answers on this path: an unknown token is refused on every route, and
    a caller who holds no grant is sent to sign in (pages) or told so (APIs)."""
    open_to_all = grant(None, permission) is not None
    if url.startswith(_OPEN311):
        return {}  # the channel's own 403 naming api_key, in its own format
    if url.startswith(_PAGES):
        found = {"302": {"description": "a browser without a session, or with a token that "
                                        "is not valid, is sent to /login",
                         "headers": {"Location": {"required": True,
                                                  "schema": {"type": "string"}}}},
                 "401": error("no valid session or token (asked for JSON)")}
    else:
        found = {"401": error("an unknown, revoked or expired token" if open_to_all
                              else "no session or token, or one that is not valid")}
    if not open_to_all:
        found["403"] = error("this role (or scope) may not; `field` names what is missing")
    return found


def _outage(url: str) -> dict:
    retry = {"Retry-After": {"required": True, "schema": {"type": "string",
                                                           "pattern": "^[0-9]+$"}}}
    if url.startswith(_OPEN311):
        return {"503": {"description": "storage unavailable; retry", "headers": retry,
                        "content": _spec_content()}}
    if url.startswith(_PAGES):
        return {"503": html("storage unavailable; the page retries by itself") | {
            "headers": retry}}
    return {"503": error("storage unavailable; retry after `Retry-After` seconds") | {
        "headers": retry}}


def _too_large(url: str) -> dict:
    """Every body is held to the server's limit (MAX_BODY_BYTES) before a view reads it."""
    description = "body over the size limit"
    if url.startswith(_OPEN311):
        return {"413": {"description": description, "content": _spec_content()}}
    return {"413": html(description) if url.startswith(_PAGES) else error(description)}


def _spec_content() -> dict:
    from dashboard.api.channels.openapi import SPEC_CONTENT

    return SPEC_CONTENT


def complete(paths: dict, server: Flask) -> dict:
    """Every operation with its security and the answers the gate and an outage give."""
    permissions = _permissions(server)
    for url, item in paths.items():
        for method, operation in item.items():
            permission = permissions.get((url, method))
            if permission is None:
                continue
            responses = operation["responses"]
            shared = _refusals(url, permission) | _outage(url)
            if "requestBody" in operation:
                shared |= _too_large(url)
            for status, answer in shared.items():
                responses.setdefault(status, answer)
            if grant(None, permission) is None and "security" not in operation:
                operation["security"] = SESSION_OR_BEARER
            elif "security" not in operation:
                operation["security"] = [{}, *SESSION_OR_BEARER]
    return paths


def document(server: Flask | None = None) -> dict:
    """The document ``server`` serves (the current app's by default). Outside an app it
    lacks the gate's answers and names streets by their shape."""
    if server is None and has_app_context():
        server = current_app
    runtime = server.extensions.get("grid_dispatch") if server is not None else None
    streets = list(runtime.grids.street_codes) if runtime is not None else None
    paths = _event_paths(streets) | _grid_paths() | _iot_paths()
    for extra in _extensions():
        paths |= copy.deepcopy(extra)  # completed below: the modules' own stay as written
    event_in, event_defs = _event_in()
    batch_item = {**event_in, "additionalProperties": False,
                  "properties": event_in["properties"] | {"idempotency_key": _KEY}}
    batch_item.pop("title", None)
    batch_item.pop("description", None)
    return {
        "openapi": "3.1.0",
        "info": {"title": "grid-dispatch", "version": "1",
                 "description": "Dispatch centre for Pidu District's three-tier grids. A "
                                "method a path does not list is answered 405 with `Allow`; "
                                "an unknown path under /api/ is a JSON 404."},
        "paths": complete(paths, server) if server is not None else paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "token from `grid-dispatch tokens create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "EventIn": event_in, **event_defs, "BatchItem": batch_item,
                **_iot_schemas(),
                "Error": {"type": "object", "required": ["error", "message"], "properties": {
                    "error": {"type": "string"}, "message": {"type": "string"},
                    "field": {"type": ["string", "null"]},
                    "problems": {"type": "array", "items": {"type": "object"}}}},
            },
        },
    }


def _extensions() -> list[dict]:
    """Paths that channel modules and plain pages describe themselves (``OPENAPI_PATHS``)."""
    from dashboard import api
    from dashboard.pages import worker

    return [paths for module in (*api.modules(), worker)
            if (paths := getattr(module, "OPENAPI_PATHS", None))]


@bp.get("/openapi.json")
@allow(Permission.PUBLIC)
def openapi():
    return jsonify(document())
