"""12345 hotline exports posted over HTTP: the body is the file, CSV or JSON lines.

The encoding is detected (UTF-8 or GBK) whatever the Content-Type's charset says, because
exports saved from Excel on Windows are GBK while still being labelled as text.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import problem, require
from dashboard.api.events import intake_error
from dispatch.access.roles import Role
from dispatch.channels.hotline.orders import HotlineFormat, HotlineImportError, import_orders
from dispatch.events.intake import IntakeError
from dispatch.store.hotline import HotlineStore
from geo.crs import CoordSystem

bp = Blueprint("hotline", __name__)

IMPORTERS = (Role.OPERATOR, Role.ADMIN, Role.INTEGRATION)
FORMATS = {"text/csv": HotlineFormat.CSV, "application/x-ndjson": HotlineFormat.JSONL,
           "application/jsonl": HotlineFormat.JSONL}


@bp.post("/api/v1/hotline/import")
@require(*IMPORTERS)
def import_hotline(*, actor):
    fmt = FORMATS.get(request.mimetype)
    if fmt is None:
        return problem(415, "unsupported-media-type", f"Content-Type {request.mimetype!r}: "
                       f"send the export as one of {sorted(FORMATS)}", field="Content-Type")
    coords = request.args.get("coords", CoordSystem.WGS84.value)
    if coords not in {c.value for c in CoordSystem}:
        return problem(400, "invalid", f"coords {coords!r} is not one of "
                       f"{[c.value for c in CoordSystem]}", field="coords")
    rt = current_app.extensions["grid_dispatch"]
    try:
        result = import_orders(request.get_data(), intake=rt.intake, locator=rt.locator,
                               orders=HotlineStore.of(rt.store), actor=actor, fmt=fmt,
                               coords=CoordSystem(coords))
    except HotlineImportError as exc:
        first = exc.problems[0]
        return problem(422, "invalid", f"{len(exc.problems)} problem(s); nothing imported",
                       field=first.field, line=first.line,
                       problems=[p.as_dict() for p in exc.problems])
    except IntakeError as exc:
        return intake_error(exc)
    return jsonify(result.as_dict()), 201 if result.created else 200
