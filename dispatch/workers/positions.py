"""Where workers are: reports from their phones (or a gateway), and who is near a place.

A position older than ten minutes is *stale*: still shown, faded, and weighed down when
recommending, because the worker may have moved on since. A report from the future (a phone
with a wrong clock) is refused; one more than a day old is refused as not news.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.events.models import Latitude, Longitude
from dispatch.events.workflow import Clock
from dispatch.store.positions import PositionStore, StoredPosition

STALE_AFTER_S = 600.0
MAX_AGE_S = 86_400.0
FUTURE_SLACK_S = 120.0  # phone clocks run a little fast
MAX_ACCURACY_M = 5_000.0


class PositionIn(BaseModel):
    """One report: where, how well (metres, as the browser's geolocation gives it), when."""

    model_config = ConfigDict(extra="forbid")

    lon: Longitude
    lat: Latitude
    accuracy_m: float = Field(default=0.0, ge=0, le=MAX_ACCURACY_M, allow_inf_nan=False)
    at: datetime | None = None


class PositionError(ValueError):
    """A report refused, naming the field and the bad value."""

    def __init__(self, field: str, message: str, value: object = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.value = value


@dataclass(frozen=True, slots=True)
class Seen:
    """A worker's last position as screens and the recommender read it."""

    worker_id: str
    lon: float
    lat: float
    accuracy_m: float
    age_s: float
    distance_m: float | None = None

    @property
    def stale(self) -> bool:
        return self.age_s > STALE_AFTER_S


def parse(body: object) -> PositionIn:
    if not isinstance(body, dict):
        raise PositionError("body", "must be a JSON object with lon, lat")
    try:
        return PositionIn.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        raise PositionError(field, err["msg"], err.get("input")) from None


class PositionBook:
    def __init__(self, *, store: PositionStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @property
    def store(self) -> PositionStore:
        return self._store

    def report(self, worker_id: str, position: PositionIn) -> bool:
        """Store a report; False when a newer one is already stored (a late resend)."""
        now = self._clock.now()
        at = position.at.timestamp() if position.at else now
        if not math.isfinite(at) or at > now + FUTURE_SLACK_S:
            raise PositionError("at", "is in the future (check the phone's clock)", position.at)
        if at < now - MAX_AGE_S:
            raise PositionError("at", "is more than a day old", position.at)
        return self._store.put(worker_id, lon=position.lon, lat=position.lat,
                               at_ms=int(at * 1000), accuracy_m=position.accuracy_m)

    def of(self, worker_ids: list[str]) -> dict[str, Seen]:
        now = self._clock.now()
        return {p.worker_id: self._seen(p, now) for p in self._store.get_many(worker_ids)
                if p is not None}

    def near(self, *, lon: float, lat: float, radius_m: float = 3_000.0,
             count: int = 50) -> list[Seen]:
        now = self._clock.now()
        return [self._seen(p, now) for p in self._store.near(lon=lon, lat=lat,
                                                             radius_m=radius_m, count=count)]

    def as_seen(self, found: Iterable[StoredPosition]) -> list[Seen]:
        """Stored positions read elsewhere (in one script with other data), aged now."""
        now = self._clock.now()
        return [self._seen(p, now) for p in found]

    @staticmethod
    def _seen(p: StoredPosition, now: float) -> Seen:
        return Seen(p.worker_id, p.lon, p.lat, p.accuracy_m, max(0.0, now - p.at_ms / 1000),
                    p.distance_m)
