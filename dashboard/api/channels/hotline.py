"""12345 hotline exports posted over HTTP: the body is the file, CSV or JSON lines.

The encoding is detected (UTF-8 or GBK) whatever the Content-Type's charset says, because
exports saved from Excel on Windows are GBK while still being labelled as text.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dispatch.access.policy import Permission
from dispatch.channels.hotline.orders import HotlineFormat, import_orders
from geo.crs import CoordSystem

bp = Blueprint("hotline", __name__)

FORMATS = {"text/csv": HotlineFormat.CSV, "application/x-ndjson": HotlineFormat.JSONL,
           "application/jsonl": HotlineFormat.JSONL}


@bp.post("/api/v1/hotline/import")
@allow(Permission.HOTLINE_IMPORT)
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
    result = import_orders(request.get_data(), intake=rt.intake, locator=rt.locator,
                           orders=rt.hotline_orders, actor=actor, fmt=fmt,
                           coords=CoordSystem(coords))
    return jsonify(result.as_dict()), 201 if result.created else 200
