"""REST JSON for dispatch: recommendations, assigning an event, a task's steps, the board."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import BodyError, json_object, problem
from dashboard.api.openapi import error, json_body, path
from dispatch.access.policy import Permission, require
from dispatch.access.roles import Role
from dispatch.events.models import Satisfaction
from dispatch.events.service import place
from dispatch.tasks.lifecycle import TaskStatus
from dispatch.tasks.recommender import place_of
from dispatch.tasks.service import MAX_TEXT
from dispatch.workers.positions import PositionBook

bp = Blueprint("tasks", __name__)
P = Permission
MAX_PHOTOS = 6
MAX_CANDIDATES = 50


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _text(body: dict, name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise BodyError(name, f"must be text of at most {MAX_TEXT} characters")
    return value


@bp.get("/api/v1/events/<event_id>/recommendations")
@allow(P.EVENT_MANAGE)
def recommendations(event_id: str, *, actor):
    raw = request.args.get("limit", "10")
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_CANDIDATES):
        return problem(400, "invalid", f"limit must be 1–{MAX_CANDIDATES}", field="limit")
    runtime = _runtime()
    view = runtime.events.get(event_id, check=lambda v: require(actor, P.EVENT_MANAGE,
                                                                **place(v)))
    found = runtime.recommender.for_place(place_of(view), limit=int(raw))
    return jsonify(event=event_id, candidates=[candidate_json(c) for c in found])


def candidate_json(c) -> dict:
    from dispatch.privacy.mask import mask_phone

    w = c.worker
    return {"worker": {"id": w.id, "name": w.name, "role": w.role.value, "role_label":
                       w.role.label, "kind": w.kind.value, "phone": mask_phone(w.phone),
                       "grid": w.grid, "party_member": w.party_member},
            "relation": c.relation.value, "score": round(c.score, 3),
            "distance_m": None if c.distance_m == float("inf") else round(c.distance_m),
            "duty": c.duty.value, "open_tasks": c.open_tasks, "skill": c.skill,
            "stale": c.stale, "reason": c.reason, "reason_zh": c.reason_zh}


@bp.post("/api/v1/events/<event_id>/tasks")
@allow(P.EVENT_MANAGE)
def assign(event_id: str, *, actor):
    body = json_object()
    worker = body.get("worker")
    if not isinstance(worker, str) or not worker or len(worker) > 40:
        raise BodyError("worker", "must be a worker id from the roster")
    task = _runtime().tasks.assign(event_id, worker, actor=actor, note=_text(body, "note"))
    return jsonify(task), 201


@bp.get("/api/v1/tasks")
@allow(P.EVENT_READ)
def board(*, actor):
    worker = request.args.get("worker")
    tasks = _runtime().tasks
    if worker:
        if len(worker) > 40:
            return problem(400, "invalid", "the worker id is longer than 40 characters",
                           field="worker")
        worker = actor.name if worker == "me" else worker
        return jsonify(tasks=tasks.of_worker(worker, actor=actor))
    return jsonify(tasks=tasks.board(actor=actor))


@bp.get("/api/v1/tasks/<task_id>")
@allow(P.EVENT_READ)
def get_task(task_id: str, *, actor):
    return jsonify(_runtime().tasks.read(task_id, actor=actor))


@bp.post("/api/v1/tasks/<task_id>/steps")
@allow(P.EVENT_MOVE)
def step(task_id: str, *, actor):
    body = json_object()
    try:
        target = TaskStatus(str(body.get("status", "")))
    except ValueError:
        raise BodyError("status", f"must be one of {[s.value for s in TaskStatus]}") from None
    satisfaction = body.get("satisfaction", "")
    if not isinstance(satisfaction, str) or (
            satisfaction and satisfaction not in {s.value for s in Satisfaction}):
        raise BodyError("satisfaction", f"must be one of {[s.value for s in Satisfaction]}")
    photos = body.get("photos", [])
    if not (isinstance(photos, list) and len(photos) <= MAX_PHOTOS
            and all(isinstance(p, str) and 0 < len(p) <= 300 for p in photos)):
        raise BodyError("photos", f"must be a list of at most {MAX_PHOTOS} photo links")
    tasks = _runtime().tasks
    if target is TaskStatus.CALLED_BACK and satisfaction:
        return jsonify(tasks.call_back(task_id, Satisfaction(satisfaction), actor=actor,
                                       note=_text(body, "note")))
    return jsonify(tasks.step(task_id, target, actor=actor, reason=_text(body, "reason"),
                              note=_text(body, "note"), satisfaction=satisfaction,
                              photos=photos))


@bp.post("/api/v1/workers/me/position")
@allow(P.POSITION_REPORT)
def report_position(*, actor):
    from dispatch.workers.positions import parse

    book: PositionBook = _runtime().positions
    body = json_object()
    worker = actor.name
    if "worker" in body:  # an integration (a gateway) reports for the workers it serves
        worker = body.pop("worker")
        if actor.role is Role.WORKER and worker != actor.name:
            raise BodyError("worker", "a phone reports its own worker's position only")
        if not isinstance(worker, str) or not 0 < len(worker) <= 40:
            raise BodyError("worker", "must be a worker id")
    if _runtime().workers.get(worker) is None:
        raise BodyError("worker", f"{worker!r} is not on the roster")
    stored = book.report(worker, parse(body))
    return jsonify(worker=worker, stored=stored), 202


def _id(name: str) -> dict:
    return path(name, schema={"type": "string", "maxLength": 60})


_TEXT = {"type": "string", "maxLength": MAX_TEXT}
_STEP = {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": [s.value for s in TaskStatus]},
    "reason": _TEXT, "note": _TEXT,
    "satisfaction": {"type": "string", "enum": [s.value for s in Satisfaction]},
    "photos": {"type": "array", "maxItems": MAX_PHOTOS,
               "items": {"type": "string", "minLength": 1, "maxLength": 300}}}}
_COMMON = {"400": error("not a JSON object"), "404": error("no such event, task or worker"),
           "409": error("taken meanwhile (another operator assigned it; the answer names "
                          "who) or the task moved meanwhile"),
           "422": error("a field is invalid; `field` names it")}

OPENAPI_PATHS = {
    "/api/v1/events/{event_id}/recommendations": {"get": {
        "summary": "Workers ranked for an event, each with the reason in words",
        "tags": ["dispatch"],
        "parameters": [_id("event_id"), {"name": "limit", "in": "query", "schema": {
            "type": "integer", "minimum": 1, "maximum": MAX_CANDIDATES}}],
        "responses": {"200": {"description": "candidates, best first"},
                      "400": error("limit out of range"), "404": error("no such event")}}},
    "/api/v1/events/{event_id}/tasks": {"post": {
        "summary": "Assign an event to a worker (one open task per event, atomically)",
        "tags": ["dispatch"], "parameters": [_id("event_id")],
        "requestBody": json_body({"type": "object", "required": ["worker"], "properties": {
            "worker": {"type": "string", "minLength": 1, "maxLength": 40}, "note": _TEXT}}),
        "responses": {"201": {"description": "the task"}, **_COMMON}}},
    "/api/v1/tasks": {"get": {
        "summary": "Open tasks in the caller's scope (the board), or one worker's tasks",
        "tags": ["dispatch"],
        "parameters": [{"name": "worker", "in": "query",
                        "schema": {"type": "string", "maxLength": 40}}],
        "responses": {"200": {"description": "tasks"}, "400": error("worker too long")}}},
    "/api/v1/tasks/{task_id}": {"get": {
        "summary": "One task", "tags": ["dispatch"], "parameters": [_id("task_id")],
        "responses": {"200": {"description": "the task"}, "404": error("no such task")}}},
    "/api/v1/tasks/{task_id}/steps": {"post": {
        "summary": "Move a task a step (accept, decline, en route, on site, resolve, verify, "
                   "call back, close, return)",
        "tags": ["dispatch"], "parameters": [_id("task_id")], "requestBody": json_body(_STEP),
        "responses": {"200": {"description": "the task after the step"}, **_COMMON}}},
    "/api/v1/workers/me/position": {"post": {
        "summary": "A worker's phone reports where it is (an integration names the worker)",
        "tags": ["dispatch"],
        "requestBody": json_body({"type": "object", "required": ["lon", "lat"], "properties": {
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "accuracy_m": {"type": "number", "minimum": 0, "maximum": 5000},
            "at": {"type": "string", "format": "date-time"},
            "worker": {"type": "string", "maxLength": 40}}}),
        "responses": {"202": {"description": "stored (or older than the stored one)"},
                      "400": error("not a JSON object"),
                      "422": error("a field is invalid; `field` names it")}}},
}
