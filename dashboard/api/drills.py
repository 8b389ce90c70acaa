"""REST JSON for drills: plan and run them (coordinators), respond and sweep (workers), watch,
read the report, replay a finished drill. Every write goes through the drill services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import ValidationError

from dashboard.api.access import allow
from dashboard.api.drills_openapi import PATHS as OPENAPI_PATHS
from dashboard.api.errors import BodyError, json_object
from dispatch.access.policy import Permission, require
from dispatch.access.roles import Actor, Role
from dispatch.drills.models import DrillAction, DrillIn, DrillKind, ResponderStatus
from dispatch.drills.sweep import SweepBatch
from dispatch.privacy.audit import AuditAction
from dispatch.workers.roster import LOCAL_TZ

bp = Blueprint("drills", __name__)
P = Permission
DRILL_CALL = "drill_call"  # the audit's reason for showing a missing responder's number
MAX_REASON = 200


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _model(model, body: dict[str, Any]):
    """The body as ``model``, or a 422 naming the first bad field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        message = "is not a known field" if err["type"] == "extra_forbidden" else err["msg"]
        raise BodyError(where, message.removeprefix("Value error, ")) from None


def _reason(body: dict[str, Any]) -> str:
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise BodyError("reason", f"must be text of at most {MAX_REASON} characters")
    return reason


def _watch(actor: Actor | None, drill_id: str, permission: Permission = P.DRILL_READ) -> dict:
    """The drill's header, if the caller may see a drill of its scope."""
    header = _runtime().drill_store.header(drill_id)
    scope = header["scope"]
    if len(scope) >= 9:
        require(actor, permission, street=scope[:9], grids=[scope])
    return header


@bp.get("/api/v1/drills")
@allow(P.DRILL_READ)
def list_drills(*, actor):
    drills = _runtime().drills
    return jsonify(drills=drills.recent(limit=50), live=drills.live())


@bp.get("/api/v1/drills/clock")
@allow(P.DRILL_READ)
def clock():
    """The server's time alone: screens time a few asks and keep the quickest answer's
    offset, so every screen's countdown is the server's (a message's delivery time would
    otherwise count as clock error)."""
    return jsonify(server_now=round(_runtime().clock.now(), 4))


@bp.get("/api/v1/drills/mine")
@allow(P.DRILL_RESPOND)
def mine(*, actor):
    """The live drills the calling worker takes part in (the worker page's drill card)."""
    runtime = _runtime()
    worker = runtime.roster.get(actor.name)
    if worker is None:
        return jsonify(drills=[])
    return jsonify(drills=runtime.drills.mine(worker))


@bp.get("/api/v1/drills/<drill_id>/households")
@allow(P.DRILL_RESPOND)
def households(drill_id: str, *, actor):
    """A micro-grid's households for a sweeper: by building, masked, with what was found."""
    micro = request.args.get("grid", "")
    if not (len(micro) == 17 and micro.isascii() and micro.isdigit()):
        raise BodyError("grid", "must be a 17-digit micro-grid code")
    require(actor, P.DRILL_RESPOND, street=micro[:9], grids=[micro])
    return jsonify(_runtime().sweep.households_of(drill_id, micro))


@bp.post("/api/v1/drills")
@allow(P.DRILL_RUN)
def plan(*, actor):
    spec = _model(DrillIn, json_object())
    if len(spec.scope) >= 9:
        require(actor, P.DRILL_RUN, street=spec.scope[:9], grids=[spec.scope])
    return jsonify(_runtime().drills.plan(spec, actor=actor)), 201


@bp.get("/api/v1/drills/<drill_id>")
@allow(P.DRILL_READ)
def get_drill(drill_id: str, *, actor):
    _watch(actor, drill_id)
    return jsonify(_runtime().drills.view(drill_id))


@bp.post("/api/v1/drills/<drill_id>/actions")
@allow(P.DRILL_RUN)
def act(drill_id: str, *, actor):
    body = json_object()
    try:
        action = DrillAction(str(body.get("action", "")))
    except ValueError:
        raise BodyError("action", f"must be one of {[a.value for a in DrillAction]}") from None
    _watch(actor, drill_id, P.DRILL_RUN)
    return jsonify(_runtime().drills.act(drill_id, action, actor=actor))


@bp.get("/api/v1/drills/<drill_id>/responders")
@allow(P.DRILL_READ)
def responders(drill_id: str, *, actor):
    _watch(actor, drill_id)
    return jsonify(responders=_runtime().muster.board(drill_id))


@bp.post("/api/v1/drills/<drill_id>/responders/<worker_id>/override")
@allow(P.DRILL_RUN)
def override(drill_id: str, worker_id: str, *, actor):
    reason = _reason(json_object())
    _watch(actor, drill_id, P.DRILL_RUN)
    t = _runtime().muster.override(drill_id, worker_id, reason=reason, actor=actor)
    return jsonify(worker=worker_id, status=ResponderStatus.ARRIVED.value, t=t)


@bp.post("/api/v1/drills/<drill_id>/responders/<worker_id>/reveal")
@allow(P.DRILL_PERSONAL)
def reveal(drill_id: str, worker_id: str, *, actor):
    """A missing responder's number in full, to call them; the audit keeps who and why."""
    note = _reason(json_object())
    runtime = _runtime()
    _watch(actor, drill_id, P.DRILL_PERSONAL)
    if worker_id not in runtime.drill_store.responders(drill_id):
        raise BodyError("worker", f"{worker_id!r} is not called to drill {drill_id!r}")
    worker = runtime.roster.get(worker_id)
    if worker is None:
        raise BodyError("worker", f"{worker_id!r} is not on the roster")
    runtime.audit.record(AuditAction.REVEAL, actor=actor, target=f"{drill_id}/{worker_id}",
                         field="phone", reason=DRILL_CALL, note=note)
    return jsonify(worker=worker_id, name=worker.name, phone=worker.phone)


@bp.post("/api/v1/drills/<drill_id>/respond")
@allow(P.DRILL_RESPOND)
def respond(drill_id: str, *, actor):
    body = json_object()
    try:
        step = ResponderStatus(str(body.get("step", "")))
    except ValueError:
        raise BodyError("step", f"must be one of {[s.value for s in ResponderStatus][1:]}"
                        ) from None
    if step is ResponderStatus.NOTIFIED:
        raise BodyError("step", "a responder is notified by the drill, not by themselves")
    who = _responder(actor, body)
    t = _runtime().muster.respond(drill_id, step, actor=who)
    return jsonify(worker=who.name, status=step.value, t=t)


@bp.post("/api/v1/drills/<drill_id>/sweep")
@allow(P.DRILL_RESPOND)
def sweep(drill_id: str, *, actor):
    body = json_object()
    who = _responder(actor, body)
    batch = _model(SweepBatch, {k: v for k, v in body.items() if k != "worker"})
    if actor.role is Role.WORKER:
        micros = {(r.household or r.building)[:17] for r in batch.reports}
        for micro in sorted(micros):
            require(actor, P.DRILL_RESPOND, street=micro[:9], grids=[micro])
    return jsonify(_runtime().sweep.report(drill_id, batch, actor=who)), 201


@bp.get("/api/v1/drills/<drill_id>/progress")
@allow(P.DRILL_READ)
def progress(drill_id: str, *, actor):
    header = _watch(actor, drill_id)
    runtime = _runtime()
    if header["kind"] == DrillKind.SWEEP.value:
        return jsonify(runtime.sweep.progress(drill_id))
    return jsonify(runtime.drills.view(drill_id)["progress"])


@bp.get("/api/v1/drills/<drill_id>/pending")
@allow(P.DRILL_PERSONAL)
def pending(drill_id: str, *, actor):
    """Special-population households not yet reached, most urgent first, masked."""
    _watch(actor, drill_id, P.DRILL_PERSONAL)
    return jsonify(households=_runtime().sweep.pending_priority(drill_id))


@bp.post("/api/v1/drills/<drill_id>/slots")
@allow(P.DRILL_RUN)
def slots(drill_id: str, *, actor):
    body = json_object()
    start = _start(body.get("start"))
    minutes, per_slot = body.get("minutes", 20), body.get("per_slot", 3)
    if not isinstance(minutes, int) or not 5 <= minutes <= 240:
        raise BodyError("minutes", "must be a whole number of minutes, 5–240")
    if not isinstance(per_slot, int) or not 1 <= per_slot <= 50:
        raise BodyError("per_slot", "must be a whole number of buildings, 1–50")
    _watch(actor, drill_id, P.DRILL_RUN)
    return jsonify(_runtime().sweep.publish_slots(drill_id, start=start, minutes=minutes,
                                                  per_slot=per_slot, actor=actor)), 201


@bp.get("/api/v1/drills/<drill_id>/figures")
@allow(P.DRILL_READ)
def figures(drill_id: str, *, actor):
    """The report's figures, recomputed from the drill's stream."""
    from dispatch.drills.figures import figures as compute

    _watch(actor, drill_id)
    runtime = _runtime()
    return jsonify(compute(runtime.drill_store.log(drill_id), grids=runtime.grids,
                           priority_ids=runtime.sweep.priority_ids(drill_id)))


@bp.get("/api/v1/drills/<drill_id>/replay")
@allow(P.DRILL_READ)
def replay(drill_id: str, *, actor):
    """The drill's state at drill second ``t``, rebuilt from its stream (the index kept
    while the stream does not grow, so a scrubber's many asks read it once)."""
    raw = request.args.get("t", "")
    try:
        t = float(raw)
        if not 0 <= t <= 86_400:
            raise ValueError
    except ValueError:
        raise BodyError("t", "must be drill seconds, 0–86400") from None
    _watch(actor, drill_id)
    return jsonify(_runtime().replays.at(drill_id, t))


@bp.get("/api/v1/drills/<drill_id>/report")
@allow(P.DRILL_READ)
def report(drill_id: str, *, actor):
    """The after-action report as one HTML file that opens offline."""
    from dispatch.drills.report import report_html

    _watch(actor, drill_id)
    runtime = _runtime()
    html = report_html(runtime.drill_store.log(drill_id), grids=runtime.grids,
                       priority_ids=runtime.sweep.priority_ids(drill_id))
    return Response(html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="drill-{drill_id}.html"'})


def _responder(actor: Actor, body: dict[str, Any]) -> Actor:
    """Who steps or reports: the worker themself, or the worker an integration names."""
    if actor.role is not Role.INTEGRATION:
        return actor
    worker = body.get("worker")
    if not isinstance(worker, str) or not 0 < len(worker) <= 40:
        raise BodyError("worker", "an integration names the worker it reports for")
    return Actor(name=worker, role=Role.WORKER)


def _start(value: object) -> datetime:
    if not isinstance(value, str):
        raise BodyError("start", "must be a local time like 2026-12-01T09:00")
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise BodyError("start", "must be a local time like 2026-12-01T09:00") from None
    return start if start.tzinfo else start.replace(tzinfo=LOCAL_TZ)


__all__ = ["OPENAPI_PATHS", "bp"]
