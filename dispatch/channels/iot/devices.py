"""IoT devices: what each one is, where it stands, and the words its alarms are told in.

A device is placed once, at registration, and its grid chain is computed then, so an alarm
needs only the device id: the location, address and grids come from the registry, never from
the alarm (a device's own GPS drifts; a cover does not move unless it says "displaced").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dispatch.access.roles import Actor
from dispatch.events.intake import Fault, IntakeError, Problem
from dispatch.events.models import Latitude, Longitude
from dispatch.events.workflow import Clock
from dispatch.store.devices import DeviceStore
from geo.locate import OUTSIDE, Locator

M = TypeVar("M", bound=BaseModel)


class DeviceType(StrEnum):
    MANHOLE_COVER = "manhole_cover"
    CAMERA = "camera"
    WATER_LEVEL = "water_level"
    SMOKE = "smoke"
    OTHER = "other"


class AlarmType(StrEnum):
    TILT = "tilt"
    OPENED = "opened"
    DISPLACED = "displaced"
    WATER_LEVEL = "water_level"
    LOW_BATTERY = "low_battery"
    CAMERA = "camera"
    SMOKE = "smoke"


@dataclass(frozen=True, slots=True)
class AlarmKind:
    category: str
    label: str  # what happened, in the words on the operators' screens
    reading: str = ""  # what ``value`` measures
    unit: str = ""


#: Alarm → category (class 20 awaits triage; smoke has no class-20 code and is a fire hazard).
ALARMS = {
    AlarmType.TILT: AlarmKind("20001", "倾斜", "倾角", "°"),
    AlarmType.OPENED: AlarmKind("20002", "开启"),
    AlarmType.DISPLACED: AlarmKind("20003", "位移", "位移", "cm"),
    AlarmType.WATER_LEVEL: AlarmKind("20004", "水位超限", "水位", "cm"),
    AlarmType.LOW_BATTERY: AlarmKind("20005", "电量低", "电量", "%"),
    AlarmType.CAMERA: AlarmKind("20006", "智能识别", "识别"),
    AlarmType.SMOKE: AlarmKind("11001", "烟雾", "烟雾浓度"),
}
DEVICE_LABELS = {
    DeviceType.MANHOLE_COVER: "智慧井盖", DeviceType.CAMERA: "视频监控",
    DeviceType.WATER_LEVEL: "水位监测仪", DeviceType.SMOKE: "智能烟感",
    DeviceType.OTHER: "物联设备",
}


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    type: DeviceType
    lon: Longitude
    lat: Latitude
    name: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=200)
    dedupe_window_s: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)


FIRST_YEAR, LAST_YEAR = 2000, 2100


class AlarmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device_id: str = Field(min_length=1, max_length=64)
    alarm: AlarmType
    value: float | str | None = Field(default=None, union_mode="left_to_right")
    at: datetime | None = None
    alarm_id: str = Field(default="", max_length=64)

    @field_validator("at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        """A device clock reset to 0001 or 9999 is a fault, and such times overflow epochs."""
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(f"year {value.year} is outside {FIRST_YEAR}–{LAST_YEAR}")
        return value

    @field_validator("value")
    @classmethod
    def _short(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str) and len(value) > 100:
            raise ValueError("is too long (at most 100 characters)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


class UnknownDeviceError(KeyError):
    def __init__(self, device_id: str) -> None:
        super().__init__(device_id)
        self.device_id = device_id

    def __str__(self) -> str:
        return f"device {self.device_id!r} is not registered"


def validate(model: type[M], payload: object) -> M:
    """Validate a JSON body; raises IntakeError (malformed if not an object) naming fields."""
    if not isinstance(payload, Mapping):
        raise IntakeError([Problem("body", "must be a JSON object")],
                          fault=Fault.MALFORMED)
    try:
        return model.model_validate(dict(payload))
    except ValidationError as exc:
        raise IntakeError([_problem(e) for e in exc.errors()]) from None


def _problem(err: Mapping[str, Any]) -> Problem:
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    message = "is not a known field" if err["type"] == "extra_forbidden" else err["msg"]
    return Problem(loc, message.removeprefix("Value error, "))


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    type: DeviceType
    lon: float
    lat: float
    name: str
    address: str
    micro: str
    general: str
    total: str
    street: str
    dedupe_window_s: float | None
    registered_at: float
    registered_by: str

    @property
    def label(self) -> str:
        return DEVICE_LABELS[self.type]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["type"] = self.type.value
        out["grid"] = {k: out.pop(k) for k in ("micro", "general", "total", "street")}
        return out

    def fields(self) -> dict[str, str]:
        """The registry hash: every value a string, an unset window an empty one."""
        return {k: "" if v is None else str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_fields(cls, h: Mapping[str, str]) -> Device:
        window = h.get("dedupe_window_s") or ""
        return cls(
            device_id=h["device_id"], type=DeviceType(h["type"]), lon=float(h["lon"]),
            lat=float(h["lat"]), name=h.get("name", ""), address=h.get("address", ""),
            micro=h["micro"], general=h["general"], total=h["total"], street=h["street"],
            dedupe_window_s=float(window) if window else None,
            registered_at=float(h["registered_at"]), registered_by=h.get("registered_by", ""))


class DeviceRegistry:
    """Register devices (located once, here) and look them up for their alarms."""

    def __init__(self, *, store: DeviceStore, locator: Locator, clock: Clock) -> None:
        self._store = store
        self._locator = locator
        self._clock = clock

    def register(self, payload: object, *, actor: Actor) -> tuple[Device, bool]:
        """Create or replace a device; returns it and whether it is new. 422 if outside."""
        spec = validate(DeviceIn, payload)
        idx = int(self._locator.indices([spec.lon], [spec.lat])[0])
        if idx == OUTSIDE:
            raise IntakeError([Problem("lon,lat", "outside: the location is not inside any "
                                       "grid of the district")])
        device = Device(
            device_id=spec.device_id, type=spec.type, lon=spec.lon, lat=spec.lat,
            name=spec.name or spec.device_id, address=spec.address,
            dedupe_window_s=spec.dedupe_window_s, registered_at=round(self._clock.now(), 3),
            registered_by=actor.name, **self._locator.chain_of(idx))
        new = self._store.put(device.device_id, device.fields(), actor=actor.name,
                              role=actor.role.value)
        return device, new

    def get(self, device_id: str) -> Device:
        found = self._store.get(device_id)
        if found is None:
            raise UnknownDeviceError(device_id)
        return Device.from_fields(found)

    def all(self) -> list[Device]:
        return [Device.from_fields(h) for h in self._store.all()]
