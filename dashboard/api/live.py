"""HTTP catch-up for live screens: what changed after a seq, or a fresh snapshot."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import access, allow
from dashboard.api.errors import problem
from dashboard.live import feed_street
from dispatch.access.policy import Permission

bp = Blueprint("live", __name__)
_SEQ = re.compile(r"^\d{1,20}-\d{1,20}$")


@bp.get("/api/v1/live/changes")
@allow(Permission.LIVE_READ)
def changes(*, actor):
    hub = current_app.extensions["grid_dispatch_live"]
    since = request.args.get("since", "")
    street = feed_street(actor, access().scope, request.args.get("street") or None)
    if since and not _SEQ.match(since):
        return problem(400, "invalid", f"since {since!r} is not a stream id like 1700000000000-0",
                       field="since")
    return jsonify(hub.since(since, street=street) if since else hub.snapshot(street=street))
