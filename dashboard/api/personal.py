"""Revealing a reporter's contact in full: a permission, a reason, and an audit entry.

Every other read shows phones and names masked; this is the one way to the whole number,
for the operator who makes the call-back (回访) that closes a resident's case.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dashboard.api.openapi import error
from dispatch.access.policy import Permission, require
from dispatch.events.service import place
from dispatch.privacy.audit import RevealReason

bp = Blueprint("personal", __name__)
REASONS = [r.value for r in RevealReason]
MAX_NOTE = 200


@bp.post("/api/v1/events/<event_id>/reveal")
@allow(Permission.PERSONAL_REVEAL)
def reveal(event_id: str, *, actor):
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return problem(400, "invalid", "body must be a JSON object with 'reason'", field="body")
    reason, note = body.get("reason"), body.get("note", "")
    if reason not in REASONS:
        return problem(422, "invalid", f"reason {reason!r} must be one of {REASONS}",
                       field="reason")
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        return problem(422, "invalid", f"note must be text of at most {MAX_NOTE} characters",
                       field="note")
    found = current_app.extensions["grid_dispatch"].events.reveal(
        event_id, actor=actor, reason=RevealReason(reason), note=note,
        check=lambda view: require(actor, Permission.PERSONAL_REVEAL, **place(view),
                                   assignee=view["assignee"]))
    return jsonify(id=event_id, reporter=found, reason=reason)


OPENAPI_PATHS = {
    "/api/v1/events/{event_id}/reveal": {
        "post": {
            "summary": "A reporter's name and phone in full, for a call-back; audited",
            "tags": ["events"],
            "parameters": [{"name": "event_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"], "properties": {
                    "reason": {"type": "string", "enum": REASONS},
                    "note": {"type": "string", "maxLength": MAX_NOTE}}}}}},
            "responses": {
                "200": {"description": "the contact, and the reason recorded with it"},
                "400": error("not a JSON object"),
                "401": error("no or unknown token"),
                "403": error("may not reveal, or the event is outside the caller's scope"),
                "404": error("no such event"),
                "422": error("reason or note invalid; `field` names it"),
                "503": error("storage unavailable; retry")}},
    },
}
