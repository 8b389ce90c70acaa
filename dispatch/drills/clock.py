"""The drill clock: one server-authoritative reading every screen derives its countdown from.

A drill's header keeps when it started, how long it has been paused and (while paused) since
when, and its speed. Drill time is wall time since the start, less the pauses, times the speed;
it stops at the finish. Screens are sent these fields and the server's own time, so each
computes the same figure from its offset to the server, not from its own clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatch.drills.models import DrillStatus


@dataclass(frozen=True, slots=True)
class DrillClock:
    status: DrillStatus
    started_at: float | None  # wall seconds
    paused_at: float | None  # wall seconds, while paused
    paused_s: float  # wall seconds spent paused before the current pause
    ended_at: float | None  # wall seconds: finished or aborted
    speed: float
    target_s: float

    @classmethod
    def of(cls, header: Mapping[str, str]) -> DrillClock:
        return cls(status=DrillStatus(header["status"]),
                   started_at=_num(header.get("started_at")),
                   paused_at=_num(header.get("paused_at")),
                   paused_s=_num(header.get("paused_s")) or 0.0,
                   ended_at=_num(header.get("ended_at")),
                   speed=_num(header.get("speed")) or 1.0,
                   target_s=_num(header.get("target_s")) or 900.0)

    def elapsed(self, now: float) -> float:
        """Drill seconds at wall time ``now`` (0 before the start)."""
        if self.started_at is None:
            return 0.0
        until = now
        if self.ended_at is not None:
            until = min(until, self.ended_at)
        if self.paused_at is not None:
            until = min(until, self.paused_at)
        return max(0.0, (until - self.started_at - self.paused_s) * self.speed)

    def remaining(self, now: float) -> float:
        """Drill seconds left to the target; negative once it is passed."""
        return self.target_s - self.elapsed(now)

    def wall_at(self, drill_s: float) -> float | None:
        """The wall time at which the drill reaches ``drill_s``, if running without pause."""
        if self.started_at is None:
            return None
        return self.started_at + self.paused_s + drill_s / self.speed

    def as_json(self, now: float) -> dict[str, Any]:
        """What a screen needs to run the countdown itself: the server's time and the fields."""
        return {"status": self.status.value, "server_now": round(now, 3),
                "started_at": self.started_at, "paused_at": self.paused_at,
                "paused_s": round(self.paused_s, 3), "ended_at": self.ended_at,
                "speed": self.speed, "target_s": self.target_s,
                "elapsed_s": round(self.elapsed(now), 3)}


def _num(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None
