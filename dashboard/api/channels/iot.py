"""IoT: the device registry and the alarm webhook devices and their platforms post to.

The dedupe window comes from the app config ``IOT_DEDUPE_WINDOW_S`` (default 600 s) unless
the device was registered with its own ``dedupe_window_s``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from dashboard.api.access import allow
from dashboard.api.errors import problem
from dispatch.access.policy import Permission
from dispatch.channels.iot.alarms import DEFAULT_DEDUPE_WINDOW_S, AlarmService, OtherDeviceError
from dispatch.channels.iot.devices import DeviceRegistry
from dispatch.events.models import Outcome

bp = Blueprint("iot", __name__)

P = Permission


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _registry() -> DeviceRegistry:
    return _runtime().devices


@bp.errorhandler(OtherDeviceError)
def _other_device(exc: OtherDeviceError):
    """Named by ``device_id``, not ``role``: the role may raise alarms, not for this device."""
    return problem(403, "forbidden", str(exc), field="device_id", device_id=exc.device_id)


@bp.post("/api/v1/iot/devices")
@allow(P.DEVICE_REGISTER)
def register_device(*, actor):
    device, new = _registry().register(request.get_json(silent=True), actor=actor)
    return jsonify(outcome="created" if new else "updated", device=device.as_dict()), (
        201 if new else 200)


@bp.get("/api/v1/iot/devices")
@allow(P.DEVICE_READ)
def list_devices():
    return jsonify(devices=[d.as_dict() for d in _registry().all()])


@bp.get("/api/v1/iot/devices/<device_id>")
@allow(P.DEVICE_READ)
def get_device(device_id: str):
    return jsonify(_registry().get(device_id).as_dict())


@bp.post("/api/v1/iot/alarms")
@allow(P.ALARM_RAISE)
def receive_alarm(*, actor):
    rt = _runtime()
    window = float(current_app.config.get("IOT_DEDUPE_WINDOW_S", DEFAULT_DEDUPE_WINDOW_S))
    service = AlarmService(registry=_registry(), intake=rt.intake, events=rt.events,
                           window_s=window)
    result = service.receive(request.get_json(silent=True), actor=actor, now=rt.clock.now())
    return jsonify(result.as_dict()), 201 if result.outcome is Outcome.CREATED else 200
