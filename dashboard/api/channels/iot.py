"""IoT: the device registry and the alarm webhook devices and their platforms post to.

The dedupe window comes from the app config ``IOT_DEDUPE_WINDOW_S`` (default 600 s) unless
the device was registered with its own ``dedupe_window_s``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import problem, require
from dashboard.api.events import intake_error
from dispatch.access.roles import Role
from dispatch.channels.iot.alarms import DEFAULT_DEDUPE_WINDOW_S, AlarmService
from dispatch.channels.iot.devices import DeviceRegistry, UnknownDeviceError
from dispatch.events.intake import IntakeError
from dispatch.store.devices import DeviceStore

bp = Blueprint("iot", __name__)

R = Role
REGISTRARS = (R.ADMIN, R.OPERATOR)
READERS = (R.ADMIN, R.OPERATOR, R.LEADER, R.COORDINATOR, R.INTEGRATION)
SENDERS = (R.DEVICE, R.INTEGRATION)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _registry() -> DeviceRegistry:
    rt = _runtime()
    return DeviceRegistry(store=DeviceStore.of(rt.store), locator=rt.locator, clock=rt.clock)


@bp.post("/api/v1/iot/devices")
@require(*REGISTRARS)
def register_device(*, actor):
    try:
        device, new = _registry().register(request.get_json(silent=True), actor=actor)
    except IntakeError as exc:
        return intake_error(exc)
    return jsonify(outcome="created" if new else "updated", device=device.as_dict()), (
        201 if new else 200)


@bp.get("/api/v1/iot/devices")
@require(*READERS)
def list_devices(*, actor):
    return jsonify(devices=[d.as_dict() for d in _registry().all()])


@bp.get("/api/v1/iot/devices/<device_id>")
@require(*READERS)
def get_device(device_id: str, *, actor):
    try:
        return jsonify(_registry().get(device_id).as_dict())
    except UnknownDeviceError as exc:
        return problem(404, "not-found", str(exc), field="device_id")


@bp.post("/api/v1/iot/alarms")
@require(*SENDERS)
def receive_alarm(*, actor):
    rt = _runtime()
    window = float(current_app.config.get("IOT_DEDUPE_WINDOW_S", DEFAULT_DEDUPE_WINDOW_S))
    service = AlarmService(registry=_registry(), intake=rt.intake, events=rt.events,
                           window_s=window)
    try:
        result = service.receive(request.get_json(silent=True), actor=actor, now=rt.clock.now())
    except IntakeError as exc:
        return intake_error(exc)
    except UnknownDeviceError as exc:
        return problem(404, "unknown-device", str(exc), field="device_id",
                       device_id=exc.device_id)
    return jsonify(result.as_dict()), 201 if result.outcome == "created" else 200
