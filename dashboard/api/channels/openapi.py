"""OpenAPI entries for the intake channels: Open311 GeoReport v2, 12345 imports, the residents'
form. The answers every route shares (the gate's, an outage's) are added by
:func:`dashboard.api.openapi.complete`.
"""

from __future__ import annotations

from dashboard.api.openapi import (
    PYTHON_SPACE,
    error,
    html,
    ok,
    op,
    path,
    query,
)
from dispatch.events.models import categories

#: An Open311 answer is in the format its URL ends with, errors included.
SPEC_ERRORS = {"type": "array", "items": {"type": "object", "required": ["code", "description"],
                                          "properties": {"code": {"type": "integer"},
                                                         "description": {"type": "string"}}}}
SPEC_CONTENT = {"application/json": {"schema": SPEC_ERRORS},
                "text/xml": {"schema": {"type": "string"}}}
_FMT = path("fmt", "answer format", {"type": "string", "enum": ["json", "xml"]})
_OPEN311 = ["open311"]


def _spec(description: str, schema: dict | None = None) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": schema or SPEC_ERRORS},
                        "text/xml": {"schema": {"type": "string"}}}}


def _listed(*values: str) -> dict:
    """A comma-separated list of these values, each part stripped and empty parts ignored."""
    blank = f"[{PYTHON_SPACE}]*"
    part = f"{blank}(?:{'|'.join(values)})?{blank}"
    return {"type": "string", "pattern": f"^{part}(?:,{part})*$"}


_W3C = {"type": "string", "description": "W3C date-time, e.g. 2024-05-01T00:00:00+08:00; "
                                         "without an offset it is Beijing time"}
_NOT_FOUND = _spec("not a GeoReport v2 resource (wrong format or path)")
_READ = {"200": _spec("the answer", {"type": ["array", "object"]}),
         "403": _spec("a token was sent and is not valid (`api_key`)"),
         "404": _NOT_FOUND}
_FORM_FIELDS = ("address_string", "description", "email", "phone", "first_name", "last_name",
                "media_url", "device_id", "account_id")
_FORM = {"required": True, "content": {
    media: {"schema": {
        "type": "object", "required": ["service_code", "lat", "long"],
        "properties": {
            "api_key": {"type": "string", "description": "the token, unless sent as a bearer"},
            "service_code": {"type": "string", "enum": sorted(categories())},
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "long": {"type": "number", "minimum": -180, "maximum": 180},
            **{k: {"type": "string"} for k in _FORM_FIELDS}}}}
    for media in ("application/x-www-form-urlencoded", "multipart/form-data")}}

OPENAPI_PATHS = {
    "/open311/v2/discovery.{fmt}": {"get": op("Discovery document", tags=_OPEN311,
                                              params=[_FMT], responses=dict(_READ))},
    "/open311/v2/services.{fmt}": {"get": op("Service list (our categories)", tags=_OPEN311,
                                             params=[_FMT], responses=dict(_READ))},
    "/open311/v2/services/{code}.{fmt}": {"get": op(
        "Service definition", tags=_OPEN311, params=[path("code"), _FMT],
        responses=_READ | {"404": _spec("unknown service_code, or not a resource")})},
    "/open311/v2/requests.{fmt}": {
        "get": op("Service requests, newest first (at most 1,000; by default the last 90 "
                  "days)", tags=_OPEN311, params=[
                      _FMT,
                      query("service_request_id", {"type": "string"},
                            "comma-separated ids (at most 1,000); overrides the other filters"),
                      query("service_code", _listed(*sorted(categories())),
                            "comma-separated service codes"),
                      query("status", _listed("open", "closed"), "open, closed or both"),
                      query("start_date", _W3C, "the range may span at most 90 days"),
                      query("end_date", _W3C, "not before start_date")],
                  responses=_READ | {"400": _spec("a filter is invalid (named in "
                                                  "`description`)")}),
        "post": op("Create a service request (form-encoded; the token as `api_key` or a "
                   "bearer)", tags=_OPEN311, params=[_FMT], body=_FORM,
                   responses={"201": _spec("created", {"type": "array"}),
                              "200": _spec("a repeat of the same Idempotency-Key",
                                           {"type": "array"}),
                              "400": _spec("a field is invalid, or the location is outside "
                                           "the district (named in `description`), or the "
                                           "body is not a form"),
                              "403": _spec("api_key missing, not valid, or not allowed"),
                              "404": _spec("unknown service_code, or not a resource"),
                              "413": _spec("body over the size limit")}),
    },
    "/open311/v2/requests/{request_id}.{fmt}": {"get": op(
        "One service request", tags=_OPEN311, params=[path("request_id"), _FMT],
        responses=_READ | {"404": _spec("unknown request, or not a resource")})},
    "/report": {
        "get": op("Residents' report form for a grid (from its QR code); no sign-in",
                  tags=["residents"], params=[
                      query("grid", {"type": "string"}, "micro or general grid code",
                            required=True),
                      query("b", {"type": "string"}, "building label printed with the code "
                                                     "(white space collapsed, cut to 40 "
                                                     "characters)")],
                  responses={"200": html("the form"),
                             "400": html("not a micro or general grid code")}),
        "post": op("Submit the form (rate limited per address)", tags=["residents"],
                   body={"required": True, "content": {"application/x-www-form-urlencoded": {
                       "schema": {"type": "object", "required": ["grid", "token", "category",
                                                                 "description"],
                                  "properties": {k: {"type": "string"} for k in (
                                      "grid", "b", "token", "category", "description",
                                      "name", "phone", "lon", "lat", "acc", "micro")}}}}},
                   responses={"200": html("receipt with the event id"),
                              "400": html("not a micro or general grid code"),
                              "413": html("body over the size limit"),
                              "422": html("the form again, each problem by its field (a "
                                          "form token that is missing, used or expired "
                                          "among them)"),
                              "429": html("too many reports from this address") | {
                                  "headers": {"Retry-After": {"required": True, "schema": {
                                      "type": "string"}}}}}),
    },
    "/api/v1/hotline/import": {"post": op(
        "Import 12345 work orders (CSV or JSON lines; all or nothing)", tags=["12345"],
        params=[query("coords", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
                      "the coordinate system of the export's lon/lat")],
        body={"required": True, "content": {
            media: {"schema": {"type": "string"}}
            for media in ("text/csv", "application/x-ndjson", "application/jsonl")}},
        responses={"201": ok("counts: some orders stored"),
                   "200": ok("counts: every order was stored before"),
                   "400": error("coords is not a coordinate system"),
                   "413": error("body over the size limit"),
                   "415": error("not CSV or JSON lines"),
                   "422": error("one problem per bad row; nothing imported")})},
}

__all__ = ["OPENAPI_PATHS", "SPEC_CONTENT"]
