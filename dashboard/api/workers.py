"""Workers for the live map: every marker at once (the feed then sends only who moved), and
one worker's panel: tasks today, how old the position is, the phone masked."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, current_app, jsonify

from dashboard.api.access import access, allow
from dashboard.live_workers import PositionFeed
from dispatch.access.policy import Permission
from dispatch.access.scope import Reach
from dispatch.privacy.mask import mask_phone
from dispatch.tasks.lifecycle import TaskStatus
from dispatch.workers.roster import LOCAL_TZ, duty_at
from geo.model import street_code_of

bp = Blueprint("workers", __name__)


def _runtime():
    return current_app.extensions["grid_dispatch"]


@bp.get("/api/v1/workers/positions")
@allow(Permission.LIVE_READ)
def positions():
    runtime = _runtime()
    feed = PositionFeed(socketio=None, runtime=runtime, rooms=None)
    scope = access().scope
    found = feed.markers(runtime.positions.store.all_ids())
    if scope.reach is not Reach.DISTRICT:
        found = [(street, m) for street, m in found if street in scope.codes]
    return jsonify(workers=[m for _, m in found])


@bp.get("/api/v1/workers/<worker_id>")
@allow(Permission.LIVE_READ)
def worker(worker_id: str, *, actor):
    runtime = _runtime()
    w = runtime.workers.get(worker_id)
    scope = access().scope
    if w is None or (scope.reach is not Reach.DISTRICT
                     and street_code_of(w.grid) not in scope.codes):
        return jsonify(error="not-found", field="id",
                       message=f"worker {worker_id!r} is not on the roster in your scope"), 404
    now = runtime.clock.now()
    midnight = datetime.combine(datetime.fromtimestamp(now, LOCAL_TZ).date(), time(),
                                LOCAL_TZ).timestamp()
    seen = runtime.positions.of([w.id]).get(w.id)
    tasks = runtime.tasks.views_of(runtime.task_store.of_worker(w.id, since=midnight))
    return jsonify(
        id=w.id, name=w.name, role=w.role.value, role_label=w.role.label, kind=w.kind.value,
        grid=w.grid, leads=w.leads, party_member=w.party_member, phone=mask_phone(w.phone),
        skills=list(w.skills), duty=duty_at(w, datetime.fromtimestamp(now, LOCAL_TZ)).value,
        position=None if seen is None else {
            "lon": seen.lon, "lat": seen.lat, "accuracy_m": seen.accuracy_m,
            "age_s": round(seen.age_s), "stale": seen.stale},
        tasks_today=tasks, open_tasks=sum(TaskStatus(t["status"]).open for t in tasks))


_ERR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

OPENAPI_PATHS = {
    "/api/v1/workers/positions": {"get": {
        "summary": "Every worker's last position as a map marker [id, lon, lat, accuracy m, "
                   "age s, state], in the map's coordinates",
        "tags": ["dispatch"], "responses": {"200": {"description": "markers"}}}},
    "/api/v1/workers/{worker_id}": {"get": {
        "summary": "One worker: tasks today, position age, phone masked",
        "tags": ["dispatch"],
        "parameters": [{"name": "worker_id", "in": "path", "required": True,
                        "schema": {"type": "string", "maxLength": 40}}],
        "responses": {"200": {"description": "the worker"},
                      "404": {"description": "not on the roster in the caller's scope",
                              **_ERR}}}},
}
