"""A drill's vocabulary: kinds, statuses, the moves between them, responder and household states.

The legal moves are one table each (:data:`MOVES`, :data:`RESPONDER_ORDER`); the service and
the store's scripts both take them from here.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.events.models import Latitude, Longitude


class DrillKind(StrEnum):
    MUSTER = "muster"  # 15分钟集结
    SWEEP = "sweep"  # 15分钟全面摸排


class DrillStatus(StrEnum):
    PLANNED = "planned"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    ABORTED = "aborted"

    @property
    def live(self) -> bool:
        """Running or paused: screens show it and reports are taken (running only)."""
        return self in (DrillStatus.RUNNING, DrillStatus.PAUSED)

    @property
    def over(self) -> bool:
        return self in (DrillStatus.FINISHED, DrillStatus.ABORTED)


class DrillAction(StrEnum):
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    FINISH = "finish"
    ABORT = "abort"


#: (status, action) → the status it leads to. Anything else is refused, naming the status.
MOVES: dict[tuple[DrillStatus, DrillAction], DrillStatus] = {
    (DrillStatus.PLANNED, DrillAction.START): DrillStatus.RUNNING,
    (DrillStatus.RUNNING, DrillAction.PAUSE): DrillStatus.PAUSED,
    (DrillStatus.PAUSED, DrillAction.RESUME): DrillStatus.RUNNING,
    (DrillStatus.RUNNING, DrillAction.FINISH): DrillStatus.FINISHED,
    (DrillStatus.PAUSED, DrillAction.FINISH): DrillStatus.FINISHED,
    (DrillStatus.PLANNED, DrillAction.ABORT): DrillStatus.ABORTED,
    (DrillStatus.RUNNING, DrillAction.ABORT): DrillStatus.ABORTED,
    (DrillStatus.PAUSED, DrillAction.ABORT): DrillStatus.ABORTED,
}


class DrillMoveError(ValueError):
    """An action the drill's status does not allow (start a finished drill, pause a paused one)."""

    def __init__(self, drill_id: str, status: str, action: str) -> None:
        allowed = sorted(a.value for (s, a) in MOVES if s == status)
        super().__init__(f"drill {drill_id!r} is {status!r}: {action!r} is not allowed "
                         f"(allowed: {allowed or 'nothing, it is over'})")
        self.drill_id, self.status, self.action = drill_id, status, action


def next_status(drill_id: str, status: DrillStatus, action: DrillAction) -> DrillStatus:
    try:
        return MOVES[(status, action)]
    except KeyError:
        raise DrillMoveError(drill_id, status.value, action.value) from None


class KindError(ValueError):
    """A muster verb on a sweep, or the other way round."""

    def __init__(self, drill_id: str, kind: str, wanted: DrillKind) -> None:
        super().__init__(f"drill {drill_id!r} is a {kind}, not a {wanted.value}")
        self.drill_id, self.kind = drill_id, kind


class ResponderStatus(StrEnum):
    """One responder in a muster: notified → acknowledged → en route → arrived."""

    NOTIFIED = "notified"
    ACKNOWLEDGED = "acknowledged"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"


#: A responder only moves forward; a step may skip ahead (en route without acknowledging).
RESPONDER_ORDER = {s: i for i, s in enumerate(ResponderStatus)}


class ArrivalHow(StrEnum):
    """How an arrival was established: the position inside the fence, or a coordinator."""

    GEOFENCE = "geofence"
    OVERRIDE = "override"


class HouseholdStatus(StrEnum):
    """What a sweeper found at one household (pending: nothing reported yet)."""

    SAFE = "safe"  # 安全
    NEEDS_HELP = "needs_help"  # 需帮助
    NOT_HOME = "not_home"  # 不在家
    VACANT = "vacant"  # 空置


class DrillChange(StrEnum):
    """What one entry of a drill's own stream records."""

    PLANNED = "drill.planned"
    MOVED = "drill.moved"  # start, pause, resume, finish, abort
    STEP = "muster.step"  # a responder moved a step (arrival: by geofence or override)
    POSITIONS = "muster.positions"  # responders' positions sampled (for the replay)
    SWEPT = "sweep.report"  # a batch of households reported
    HELP = "sweep.help"  # a household needing help became an event
    SLOTS = "sweep.slots"  # time slots published per building


#: district (6 digits), street (9), total or general grid (14), micro-grid (17)
CODE = re.compile(r"^[0-9]{6}([0-9]{3}([0-9]{5}([0-9]{3})?)?)?$")


class MusterPoint(BaseModel):
    """Where a muster gathers, and how close counts as arrived."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=40)
    lon: Longitude
    lat: Latitude
    radius_m: float = Field(default=150, ge=20, le=2000)
    #: the grid (any tier) or street whose responders gather here; "" for everyone
    serves: str = Field(default="", max_length=17)


class DrillIn(BaseModel):
    """What a coordinator sends to plan a drill."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: DrillKind
    scope: str = Field(pattern=r"^[0-9]{6}([0-9]{3}([0-9]{5}([0-9]{3})?)?)?$",
                       description="510117 (district), a 9-digit street, or a grid code")
    scenario: str = Field(default="epidemic", max_length=20,
                          description="a scenario of the site's file (default: epidemic, "
                                      "flood, fire, earthquake)")
    title: str = Field(default="", max_length=60)
    target_minutes: float = Field(default=15, gt=0, le=240)
    pass_share: float = Field(default=0.95, gt=0, le=1,
                              description="share that must be reached within the target")
    speed: float = Field(default=1, ge=1, le=60, description="time acceleration (simulation)")
    roles: tuple[str, ...] = Field(default=(), max_length=7,
                                   description="worker roles taking part (muster)")
    team: tuple[str, ...] = Field(default=(), max_length=2000,
                                  description="named workers instead of roles (muster)")
    points: tuple[MusterPoint, ...] = Field(default=(), max_length=200)
    simulated: bool = False

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError("scope must be the district (6 digits), a street (9), a total "
                             f"grid (14), a general grid (14) or a micro-grid (17): {value!r}")
        return value
