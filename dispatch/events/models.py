"""Events, their statuses, sources, severities and roles: the vocabulary every part shares."""

from __future__ import annotations

import csv
import math
import re
from datetime import datetime
from enum import StrEnum
from functools import cache
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, field_validator

from geo.model import data_dir


class Status(StrEnum):
    """The seven-step loop (收集→上报→分流→办理→反馈→考核→决策) as event statuses."""

    COLLECTED = "collected"
    REPORTED = "reported"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    SIGNED = "signed"
    IN_PROGRESS = "in_progress"
    FEEDBACK = "feedback"
    VERIFIED = "verified"
    CLOSED = "closed"
    REOPENED = "reopened"
    ARCHIVED = "archived"
    RETURNED = "returned"
    CANCELLED = "cancelled"

    @property
    def open(self) -> bool:
        return self not in (Status.CLOSED, Status.ARCHIVED, Status.CANCELLED)


class ChangeKind(StrEnum):
    """What one entry of the change stream records (its ``kind`` field)."""

    CREATED = "event.created"
    REPEATED = "event.repeated"  # a duplicate folded into the open event
    TRANSITION = "event.transition"
    ESCALATED = "event.escalated"
    GRIDS_LOADED = "grids.loaded"
    DEVICE_REGISTERED = "device.registered"
    TOKEN_REVOKED = "token.revoked"  # every process closes that token's websockets
    WORKERS_LOADED = "workers.loaded"  # the whole roster replaced
    TASK = "task.step"  # a task assigned or moved a step (its event's id, the task's id)
    TASK_ESCALATED = "task.escalated"  # a task not accepted in time: the next tier is told


class Outcome(StrEnum):
    """What storing one report did."""

    CREATED = "created"  # a new event
    REPEAT = "repeat"  # a retry of a report already stored (same idempotency key)
    FOLDED = "folded"  # a duplicate counted on the open event it repeats (dedupe)


class Severity(StrEnum):
    URGENT = "urgent"
    ROUTINE = "routine"
    COMPLEX = "complex"


class Source(StrEnum):
    WORKER = "worker"
    RESIDENT = "resident"
    HOTLINE = "12345"
    ONLINE = "online"
    IOT = "iot"
    OPEN311 = "open311"
    OPERATOR = "operator"
    API = "api"




class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    FAIRLY = "fairly_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意


#: Escalation tiers, lowest first: overdue work climbs one tier per missed limit.
ESCALATION_TIERS = ("micro", "general", "total", "street")

def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


#: WGS-84 coordinates as every intake model takes them: in range and finite (no NaN, inf).
Longitude = Annotated[float, Field(ge=-180, le=180), AfterValidator(_finite)]
Latitude = Annotated[float, Field(ge=-90, le=90), AfterValidator(_finite)]

_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")


class Category(BaseModel):
    model_config = ConfigDict(frozen=True)
    code: str
    name: str
    name_en: str
    class_name: str
    class_name_en: str
    default_severity: Severity

    @property
    def class_code(self) -> str:
        return self.code[:2]


@cache
def categories() -> dict[str, Category]:
    """Two-level category table (2-digit class + 3-digit subclass) from data/categories.csv."""
    with open(data_dir() / "categories.csv", encoding="utf-8", newline="") as fh:
        return {row["code"]: Category.model_validate(row) for row in csv.DictReader(fh)}


class EventIn(BaseModel):
    """A report as it arrives from any channel, before it is located and stored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: str = Field(pattern=r"^\d{5}$", description="5-digit category code")
    severity: Severity | None = None
    lon: Longitude
    lat: Latitude
    description: str = Field(min_length=1, max_length=2000)
    address: str = Field(default="", max_length=200)
    building: str = Field(default="", max_length=100)
    reporter_name: str = Field(default="", max_length=50)
    reporter_phone: str = Field(default="", max_length=20)
    attachments: list[HttpUrl] = Field(default_factory=list, max_length=10)
    external_id: str = Field(default="", max_length=64)
    occurred_at: datetime | None = None

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in categories():
            raise ValueError(f"unknown category {value!r}")
        return value

    @field_validator("occurred_at")
    @classmethod
    def _plausible_time(cls, value: datetime | None) -> datetime | None:
        """Years 2000–2100: a report of year 1 or 9999 is a typo or a probe, never an event."""
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError("must be a time between the years 2000 and 2100")
        return value

    @field_validator("reporter_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if value and not _PHONE.match(value):
            raise ValueError("is not a phone number")
        return value
