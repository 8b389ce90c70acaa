"""An IoT alarm becomes an event: category by alarm type, place from the registry.

A flapping sensor must not bury the operators: repeats of the same alarm from the same device
fold into the one open event (its count rises) for as long as they keep arriving within the
dedupe window of the previous one (default 10 minutes; a device may carry its own), through
the store's dedupe key. Once that event is closed, the next alarm opens a new event. An
``alarm_id`` makes a retried delivery of the same alarm a no-op instead of a repeat.

A device token speaks for its own device only, so a token read out of one sensor cannot
raise alarms across the district; an integration (an IoT platform) speaks for every device.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dispatch import localtime
from dispatch.access.credentials import DeviceActor
from dispatch.access.policy import Forbidden, Permission
from dispatch.access.roles import Actor
from dispatch.channels.iot.devices import ALARMS, AlarmIn, Device, DeviceRegistry, validate
from dispatch.events.intake import Intake, Report
from dispatch.events.models import EventIn, Outcome, Source
from dispatch.events.service import EventService

DEFAULT_DEDUPE_WINDOW_S = 600.0


class OtherDeviceError(Forbidden):
    """A device token raised an alarm for a device other than its own; carries that id."""

    def __init__(self, actor: DeviceActor, device_id: str) -> None:
        bound = f"bound to device {actor.device!r}" if actor.device else \
            "bound to no device (create one with --device)"
        super().__init__(f"device_id {device_id!r}: this token is {bound} and may raise "
                         "alarms for that device only", permission=Permission.ALARM_RAISE,
                         actor=actor)
        self.device_id = device_id


@dataclass(frozen=True, slots=True)
class AlarmResult:
    outcome: Outcome  # FOLDED: a repeat within the window; REPEAT: the same alarm_id again
    event_id: str
    count: int
    device_id: str
    alarm: str

    def as_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value, "event_id": self.event_id, "count": self.count,
                "device_id": self.device_id, "alarm": self.alarm}


def describe(device: Device, alarm: AlarmIn, *, at: datetime) -> str:
    """The operators' one-line summary, e.g. 智慧井盖倾斜告警：东大街3号井盖（设备 MC-1）…"""
    kind = ALARMS[alarm.alarm]
    parts = [f"{device.label}{kind.label}告警：{device.name}（设备 {device.device_id}）"]
    if device.address:
        parts.append(device.address)
    if alarm.value is not None:
        parts.append(f"{kind.reading or '读数'} {_number(alarm.value)}{kind.unit}")
    parts.append(f"告警时间 {at.astimezone(localtime.CST):%Y-%m-%d %H:%M:%S}")
    return "，".join(parts)


def _number(value: float | str) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def alarm_report(device: Device, alarm: AlarmIn, *, at: datetime, window_s: float) -> Report:
    """The report for one alarm, keyed so repeats from this device fold into one event."""
    data = EventIn(
        category=ALARMS[alarm.alarm].category, lon=device.lon, lat=device.lat,
        description=describe(device, alarm, at=at), address=device.address,
        external_id=device.device_id, occurred_at=at)
    idem = f"iot:{device.device_id}:{alarm.alarm_id}" if alarm.alarm_id else ""
    extra = {"iot": {"device_id": device.device_id, "device_type": device.type.value,
                     "alarm": alarm.alarm.value, "value": alarm.value, "at": at.isoformat()}}
    return Report(data=data, source=Source.IOT, idempotency_key=idem,
                  dedupe_key=f"iot:{device.device_id}:{alarm.alarm.value}",
                  dedupe_window_s=device.dedupe_window_s or window_s, extra=extra)


class AlarmService:
    def __init__(self, *, registry: DeviceRegistry, intake: Intake, events: EventService,
                 window_s: float = DEFAULT_DEDUPE_WINDOW_S) -> None:
        self._registry = registry
        self._intake = intake
        self._events = events
        self._window_s = window_s

    def receive(self, payload: object, *, actor: Actor, now: float) -> AlarmResult:
        """Store one alarm; raises IntakeError (bad body), OtherDeviceError (a device token
        speaking for another device; nothing is stored) or UnknownDeviceError."""
        alarm = validate(AlarmIn, payload)
        if isinstance(actor, DeviceActor) and actor.device != alarm.device_id:
            raise OtherDeviceError(actor, alarm.device_id)
        device = self._registry.get(alarm.device_id)
        at = localtime.aware(alarm.at) if alarm.at else datetime.fromtimestamp(
            now, localtime.CST)
        report = alarm_report(device, alarm, at=at, window_s=self._window_s)
        created = self._intake.submit(report, actor=actor)
        count = self._events.get(created.id)["count"]
        return AlarmResult(outcome=created.outcome, event_id=created.id, count=count,
                           device_id=device.device_id, alarm=alarm.alarm.value)
