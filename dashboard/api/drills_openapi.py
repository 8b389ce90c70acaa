"""The OpenAPI description of the drill endpoints (kept beside, not inside, the views)."""

from __future__ import annotations

from typing import Any

from dashboard.api.openapi import error, json_body, path
from dispatch.drills.models import DrillAction, DrillIn, ResponderStatus
from dispatch.drills.scenarios import load_scenarios
from dispatch.drills.sweep import SweepBatch


def _id(name: str) -> dict[str, Any]:
    return path(name, schema={"type": "string", "maxLength": 60})


def _schema(model) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return _inline(schema, defs)


def _plan_schema() -> dict[str, Any]:
    """DrillIn, with the scenarios of the default file named (a site's file may add more)."""
    schema = _schema(DrillIn)
    schema["properties"]["scenario"]["enum"] = sorted(load_scenarios())
    return schema


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with every ``$ref`` to its own definitions written in place."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            return _inline(defs[ref.rsplit("/", 1)[1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


_REASON = {"type": "object", "properties": {"reason": {"type": "string", "maxLength": 200}}}
_DRILL = [_id("drill_id")]
_COMMON = {"400": error("not a JSON object"), "404": error("no such drill"),
           "409": error("the drill's state does not allow it; `current` says where it is"),
           "422": error("a field is invalid; `field` names it")}
_TAGS = ["drills"]


def _get(summary: str, *, params: list[dict[str, Any]] | None = None,
         ok: str = "JSON") -> dict[str, Any]:
    return {"get": {"summary": summary, "tags": _TAGS, "parameters": params or _DRILL,
                    "responses": {"200": {"description": ok}, "404": error("no such drill"),
                                  "422": error("a parameter is invalid; `field` names it")}}}


def _post(summary: str, body: dict[str, Any], *, params: list[dict[str, Any]] | None = None,
          ok: str = "200") -> dict[str, Any]:
    return {"post": {"summary": summary, "tags": _TAGS, "parameters": params or _DRILL,
                     "requestBody": json_body(body),
                     "responses": {ok: {"description": "done"}, **_COMMON}}}


_WORKER = [_id("drill_id"), _id("worker_id")]

PATHS = {
    "/api/v1/drills": {
        "get": {"summary": "Recent drills, and those running or paused", "tags": _TAGS,
                "responses": {"200": {"description": "drills"}}},
        "post": {"summary": "Plan a muster or a sweep (coordinators)", "tags": _TAGS,
                 "requestBody": json_body(_plan_schema()),
                 "responses": {"201": {"description": "the planned drill"}, **_COMMON}}},
    "/api/v1/drills/clock": {"get": {
        "summary": "The server's time (screens keep their countdowns to it)", "tags": _TAGS,
        "responses": {"200": {"description": "server_now, epoch seconds"}}}},
    "/api/v1/drills/mine": {"get": {
        "summary": "The live drills the calling worker takes part in", "tags": _TAGS,
        "responses": {"200": {"description": "drills, each with the worker's own part"}}}},
    "/api/v1/drills/{drill_id}/households": _get(
        "A micro-grid's households for its sweeper, by building, masked",
        params=[*_DRILL, {"name": "grid", "in": "query", "required": True,
                          "schema": {"type": "string", "pattern": "^[0-9]{17}$"}}]),
    "/api/v1/drills/{drill_id}": _get("One drill: its clock (server time included) and progress"),
    "/api/v1/drills/{drill_id}/actions": _post(
        "Start, pause, resume, finish or abort a drill",
        {"type": "object", "required": ["action"], "properties": {
            "action": {"type": "string", "enum": [a.value for a in DrillAction]}}}),
    "/api/v1/drills/{drill_id}/responders": _get("A muster's responders, missing first; phones "
                                                 "masked"),
    "/api/v1/drills/{drill_id}/responders/{worker_id}/override": _post(
        "Mark a responder arrived by hand; the reason is kept", _REASON, params=_WORKER),
    "/api/v1/drills/{drill_id}/responders/{worker_id}/reveal": _post(
        "A missing responder's phone in full, to call them (audited)", _REASON,
        params=_WORKER),
    "/api/v1/drills/{drill_id}/respond": _post(
        "A responder's own step (an integration names the worker)",
        {"type": "object", "required": ["step"], "properties": {
            "step": {"type": "string", "enum": [s.value for s in ResponderStatus][1:]},
            "worker": {"type": "string", "maxLength": 40}}}),
    "/api/v1/drills/{drill_id}/sweep": _post(
        "Households found in a sweep, one by one or a building at once", {
            **_schema(SweepBatch), "properties": {**_schema(SweepBatch)["properties"],
                                                  "worker": {"type": "string",
                                                             "maxLength": 40}}}, ok="201"),
    "/api/v1/drills/{drill_id}/progress": _get("Progress: per micro-grid (sweep) or per step"),
    "/api/v1/drills/{drill_id}/pending": _get("Special-population households not yet reached, "
                                              "most urgent first (masked)"),
    "/api/v1/drills/{drill_id}/slots": _post(
        "Publish a time slot for every building in scope (shown on its QR page)",
        {"type": "object", "required": ["start"], "properties": {
            "start": {"type": "string", "pattern":
                      r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$"},
            "minutes": {"type": "integer", "minimum": 5, "maximum": 240},
            "per_slot": {"type": "integer", "minimum": 1, "maximum": 50}}}, ok="201"),
    "/api/v1/drills/{drill_id}/figures": _get("The report's figures, recomputed from the "
                                              "drill's stream"),
    "/api/v1/drills/{drill_id}/replay": _get(
        "The drill's state at drill second t, rebuilt from its stream",
        params=[*_DRILL, {"name": "t", "in": "query", "required": True,
                          "schema": {"type": "number", "minimum": 0, "maximum": 86400}}]),
    "/api/v1/drills/{drill_id}/report": _get("The after-action report: one HTML file that "
                                             "opens offline", ok="text/html"),
}
