"""OpenAPI entries for the intake channels: Open311 GeoReport v2, IoT alarms, 12345 imports."""

from __future__ import annotations

_FMT = {"name": "fmt", "in": "path", "required": True,
        "schema": {"type": "string", "enum": ["json", "xml"]}}


def _path(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _op(summary: str, tags: list[str], *, params=None, security=None, body=None,
        responses=None) -> dict:
    op = {"summary": summary, "tags": tags,
          "responses": responses or {"200": {"description": "OK"}}}
    if params:
        op["parameters"] = params
    if security is not None:
        op["security"] = security
    if body:
        op["requestBody"] = body
    return op


_SPEC_ERRORS = {"400": {"description": "spec error (field named in `description`)"},
                "403": {"description": "api_key missing or not allowed"},
                "404": {"description": "unknown service or request"}}
_FORM = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["api_key", "service_code", "lat", "long"],
    "properties": {k: {"type": "string"} for k in (
        "api_key", "service_code", "lat", "long", "address_string", "description", "email",
        "phone", "first_name", "last_name", "media_url", "device_id", "account_id")}}}}}
_OPEN311 = ["open311"]
_IOT = ["iot"]
_BEARER = [{"bearer": []}]

OPENAPI_PATHS = {
    "/open311/v2/discovery.{fmt}": {"get": _op("Discovery document", _OPEN311, params=[_FMT])},
    "/open311/v2/services.{fmt}": {"get": _op("Service list (our categories)", _OPEN311,
                                              params=[_FMT])},
    "/open311/v2/services/{code}.{fmt}": {"get": _op(
        "Service definition", _OPEN311, params=[_path("code"), _FMT], responses=_SPEC_ERRORS)},
    "/open311/v2/requests.{fmt}": {
        "get": _op("Service requests (filters: service_request_id, service_code, start_date, "
                   "end_date, status)", _OPEN311, params=[_FMT], responses=_SPEC_ERRORS),
        "post": _op("Create a service request (form-encoded, with api_key)", _OPEN311,
                    params=[_FMT], body=_FORM, responses=_SPEC_ERRORS),
    },
    "/open311/v2/requests/{request_id}.{fmt}": {"get": _op(
        "One service request", _OPEN311, params=[_path("request_id"), _FMT],
        responses=_SPEC_ERRORS)},
    "/open311/v2/{rest}": {
        "get": _op("Anything else under /open311/v2/: a 404 in the spec's format", _OPEN311,
                   params=[_path("rest")], responses={"404": {"description": "not found"}}),
        "post": _op("Anything else under /open311/v2/: a 404 in the spec's format", _OPEN311,
                    params=[_path("rest")], responses={"404": {"description": "not found"}}),
    },
    "/api/v1/iot/devices": {
        "post": _op("Register or update a device (location → grid chain)", _IOT,
                    security=_BEARER, responses={"200": {"description": "saved"},
                                                 "422": {"description": "invalid or outside"}}),
        "get": _op("List registered devices", _IOT, security=_BEARER),
    },
    "/api/v1/iot/devices/{device_id}": {"get": _op(
        "One device", _IOT, params=[_path("device_id")], security=_BEARER,
        responses={"200": {"description": "device"}, "404": {"description": "unknown"}})},
    "/api/v1/iot/alarms": {"post": _op(
        "An alarm from a device: one event per device and alarm within the dedupe window",
        _IOT, security=_BEARER,
        responses={"201": {"description": "created"}, "200": {"description": "folded"},
                   "404": {"description": "unknown device_id"},
                   "422": {"description": "unknown alarm or bad value"}})},
    "/report": {
        "get": _op("Residents' report form for a grid (from its QR code); no sign-in",
                   ["residents"], params=[
                       {"name": "grid", "in": "query", "required": True,
                        "schema": {"type": "string"}, "description": "micro or general grid"},
                       {"name": "b", "in": "query", "required": False,
                        "schema": {"type": "string", "maxLength": 40},
                        "description": "building label printed with the code"}],
                   responses={"200": {"description": "HTML form"},
                              "400": {"description": "not a micro or general grid code"}}),
        "post": _op("Submit the form (rate limited per address)", ["residents"],
                    body={"required": True, "content": {"application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "required": ["grid", "token", "category",
                                                                  "description"],
                                   "properties": {k: {"type": "string"} for k in (
                                       "grid", "b", "token", "category", "description",
                                       "name", "phone", "lon", "lat", "acc", "micro")}}}}},
                    responses={"200": {"description": "receipt with the event id"},
                               "400": {"description": "not a grid code, or a bad form token"},
                               "422": {"description": "form again, each problem by its field"},
                               "429": {"description": "too many reports"},
                               "503": {"description": "storage unavailable; try again"}}),
    },
    "/api/v1/hotline/import": {"post": _op(
        "Import 12345 work orders (CSV or JSON lines; all or nothing)", ["12345"],
        security=_BEARER, responses={"200": {"description": "counts"},
                                     "422": {"description": "one problem per bad row"}})},
}
