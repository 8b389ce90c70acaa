"""REST JSON for the wish wall (心愿墙): the wall by state, publishing a wish, claiming one."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import BodyError, problem
from dashboard.api.openapi import error
from dispatch.access.policy import Permission, require
from dispatch.tasks.service import MAX_TEXT
from dispatch.tasks.wishes import WishState, WishWall

bp = Blueprint("wishes", __name__)
P = Permission
MAX_LIMIT = 500


def wall(runtime) -> WishWall:
    """The wish wall over a runtime's events and tasks (screens build theirs the same way)."""
    return WishWall(events=runtime.events, store=runtime.store.events, tasks=runtime.tasks)


def _wall() -> WishWall:
    return wall(current_app.extensions["grid_dispatch"])


@bp.get("/api/v1/wishes")
@allow(P.EVENT_READ)
def list_wishes(*, actor):
    raw = request.args.get("limit", "200")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        return problem(400, "invalid", f"limit must be 1–{MAX_LIMIT}", field="limit")
    found = _wall()
    return jsonify(wishes=found.list(actor=actor, limit=int(raw)),
                   counts=found.counts(require(actor, P.EVENT_READ)))


@bp.post("/api/v1/wishes/<event_id>/publish")
@allow(P.EVENT_MANAGE)
def publish(event_id: str, *, actor):
    return jsonify(_wall().publish(event_id, actor=actor))


@bp.post("/api/v1/wishes/<event_id>/claim")
@allow(P.WISH_CLAIM)
def claim(event_id: str, *, actor):
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        raise BodyError("body", "must be a JSON object (or empty)")
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > MAX_TEXT:
        raise BodyError("note", f"must be text of at most {MAX_TEXT} characters")
    return jsonify(_wall().claim(event_id, actor=actor, note=note)), 201


_EVENT_ID = {"name": "event_id", "in": "path", "required": True,
             "schema": {"type": "string", "maxLength": 60}}
_STATES = [s.value for s in WishState]
_COMMON = {"404": error("no such event"),
           "409": error("the wish is not in the state this needs (`field` is `status`), or "
                          "another worker claimed it first (the answer names who)"),
           "422": error("not a wish (`field` is `category`), the worker may not claim "
                          "(`field` is `worker`: not a party member), or a field is invalid")}

OPENAPI_PATHS = {
    "/api/v1/wishes": {"get": {
        "summary": "The wish wall in the caller's scope: wishes by state (submitted, published, "
                   "claimed, done), newest first, and the count in each state",
        "tags": ["wishes"],
        "parameters": [{"name": "limit", "in": "query", "schema": {
            "type": "integer", "minimum": 1, "maximum": MAX_LIMIT}}],
        "responses": {"200": {"description": "wishes and counts by state", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "wishes": {"type": "object", "properties": {
                    s: {"type": "array", "items": {"type": "object"}} for s in _STATES}},
                "counts": {"type": "object", "properties": {
                    s: {"type": "integer"} for s in _STATES}}}}}}},
            "400": error("limit out of range")}}},
    "/api/v1/wishes/{event_id}/publish": {"post": {
        "summary": "Put a submitted wish on the wall (the centre registers its event)",
        "tags": ["wishes"], "parameters": [_EVENT_ID],
        "responses": {"200": {"description": "the wish's event, registered"}, **_COMMON}}},
    "/api/v1/wishes/{event_id}/claim": {"post": {
        "summary": "A party member claims a published wish (接单): a task of their own",
        "tags": ["wishes"], "parameters": [_EVENT_ID],
        "requestBody": {"required": False, "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "note": {"type": "string", "maxLength": MAX_TEXT}}}}}},
        "responses": {"201": {"description": "the task"},
                      "400": error("the body is not a JSON object"), **_COMMON}}},
}
