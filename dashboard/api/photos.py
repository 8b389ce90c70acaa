"""Photos of a task's work: a worker's phone uploads them before the step that cites them.

A photo is kept under the data folder as ``photos/<task id>/<sha256>.<ext>``: named by its
content, so a phone that sends the same photo again (a retry on a weak connection) stores it
once and gets the same link. The kind is told by the file's first bytes, never by its name or
the type the client claims; only JPEG, PNG and WebP are kept. Reading one is reading the task.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request, send_file
from werkzeug.exceptions import NotFound, RequestEntityTooLarge

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dashboard.api.openapi import error
from dispatch.access.policy import Permission, require
from dispatch.access.roles import Actor
from dispatch.tasks.lifecycle import StepError, TaskStatus

bp = Blueprint("photos", __name__)
P = Permission
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: Room for the multipart envelope around a photo of the largest size.
MAX_UPLOAD_BYTES = MAX_PHOTO_BYTES + 64 * 1024
#: Photos one task may hold: a resolve step cites at most six, retakes included.
MAX_PER_TASK = 24
FIELD = "photo"
KINDS = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
NAME = re.compile(r"^[0-9a-f]{64}\.(?:jpg|png|webp)$")


def kind_of(head: bytes) -> str | None:
    """The file's kind from its magic bytes: "jpg", "png", "webp", or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@bp.post("/api/v1/tasks/<task_id>/photos")
@allow(P.EVENT_HANDLE)
def upload(task_id: str, *, actor: Actor):
    """Store one photo for the task; only its worker or the centre may add one."""
    task = _may_upload(task_id, actor)
    request.max_content_length = MAX_UPLOAD_BYTES
    try:
        file = request.files.get(FIELD)
        data = file.read(MAX_PHOTO_BYTES + 1) if file else b""
    except RequestEntityTooLarge:
        return _too_large()
    if file is None:
        return problem(422, "invalid", f"send the picture as multipart field {FIELD!r}",
                       field=FIELD)
    if len(data) > MAX_PHOTO_BYTES:
        return _too_large()
    kind = kind_of(data[:12])
    if kind is None:
        return problem(422, "invalid", "not a JPEG, PNG or WebP picture (judged by its "
                       "content, not its name)", field=FIELD)
    folder = _folder(task["id"])
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    if not (folder / name).exists():
        if folder.is_dir() and sum(1 for _ in folder.iterdir()) >= MAX_PER_TASK:
            return problem(409, "too-many", f"task {task['id']} holds {MAX_PER_TASK} photos "
                           "already", field=FIELD)
        _write(folder, name, data)
    return jsonify(url=f"/api/v1/tasks/{task['id']}/photos/{name}"), 201


@bp.get("/api/v1/tasks/<task_id>/photos/<name>")
@allow(P.EVENT_READ)
def photo(task_id: str, name: str, *, actor: Actor):
    """One photo, to whoever may read the task."""
    task = current_app.extensions["grid_dispatch"].tasks.read(task_id, actor=actor)
    path = _folder(task["id"]) / name
    if not NAME.match(name) or not path.is_file():
        raise NotFound(f"task {task['id']} has no photo {name!r}")
    response = send_file(path, mimetype=KINDS[name.rsplit(".", 1)[1]], max_age=86400,
                         conditional=True, etag=name.split(".")[0])
    response.headers["Cache-Control"] = "private, max-age=86400, immutable"
    return response


def _may_upload(task_id: str, actor: Actor) -> dict:
    """The task, if the caller is its worker or the centre at the event's place."""
    runtime = current_app.extensions["grid_dispatch"]
    task = runtime.tasks.read(task_id, actor=actor)  # 404 unknown, 403 outside the scope
    if task["worker"]["id"] != actor.name:
        event = runtime.store.events.get(task["event"])
        require(actor, P.EVENT_MANAGE, street=event["street"],
                grids=(event["micro"], event["general"], event["total"]))
    if not TaskStatus(task["status"]).open:
        raise StepError(f"task {task['id']} is {task['status']}; its photos are final",
                        field="status", value=task["status"])
    return task


def _folder(task_id: str) -> Path:
    settings = current_app.extensions["grid_dispatch"].settings
    return Path(settings.data_dir) / "photos" / task_id


def _write(folder: Path, name: str, data: bytes) -> None:
    """Whole or not at all: a reader never sees half a photo under its final name."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, folder / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _too_large():
    return problem(413, "too-large", f"a photo may be at most {MAX_PHOTO_BYTES // 2**20} MB",
                   field=FIELD)


_PARAMS = [{"name": "task_id", "in": "path", "required": True,
            "schema": {"type": "string", "maxLength": 60}}]

OPENAPI_PATHS = {
    "/api/v1/tasks/{task_id}/photos": {"post": {
        "summary": "Upload a photo of the task's work (its worker or the centre); cite the "
                   "answered url in the step's `photos`",
        "tags": ["dispatch"], "parameters": _PARAMS,
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": [FIELD], "properties": {
                FIELD: {"type": "string", "format": "binary",
                        "description": f"JPEG, PNG or WebP, at most {MAX_PHOTO_BYTES:,} "
                                       "bytes"}}}}}},
        "responses": {
            "201": {"description": "stored (or already stored: same content, same url)",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["url"],
                        "properties": {"url": {"type": "string"}}}}}},
            "404": error("no such task"),
            "409": error("the task is finished, or holds the most photos it may"),
            "413": error("the photo is larger than 5 MB"),
            "422": error("no `photo` field, or not a JPEG, PNG or WebP picture")}}},
    "/api/v1/tasks/{task_id}/photos/{name}": {"get": {
        "summary": "One photo of a task, to whoever may read the task",
        "tags": ["dispatch"],
        "parameters": [*_PARAMS, {"name": "name", "in": "path", "required": True,
                                  "schema": {"type": "string"}}],
        "responses": {
            "200": {"description": "the picture", "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in KINDS.values()}},
            "304": {"description": "not modified"},
            "404": error("no such task or photo")}}},
}
