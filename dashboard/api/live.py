"""HTTP catch-up for live screens: what changed after a seq, or a fresh snapshot."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import access, allow
from dashboard.api.errors import problem
from dashboard.live import SeqError, checked_seq, feed_street
from dispatch.access.policy import Permission

bp = Blueprint("live", __name__)


@bp.get("/api/v1/live/changes")
@allow(Permission.LIVE_READ)
def changes(*, actor):
    hub = current_app.extensions["grid_dispatch_live"]
    since = request.args.get("since", "")
    street = feed_street(actor, access().scope, request.args.get("street") or None)
    try:
        since = checked_seq(since) if since else ""
    except SeqError as exc:
        return problem(400, "invalid", str(exc), field="since")
    return jsonify(hub.since(since, street=street) if since else hub.snapshot(street=street))
