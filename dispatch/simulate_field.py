"""What the demo's field workers are like: how far they roam, how fast, how their phones
report, how soon they act on a task and what they write; and the records the simulator keeps.
Kept apart from :mod:`dispatch.simulate_workers` so the numbers read on one page."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from dispatch.tasks.lifecycle import TaskStatus

#: Furthest a walk takes a worker from home (metres).
ROAM_M = 1_500.0
#: Walking pace and e-bike pace (m/s); a worker keeps theirs.
WALK_SPEED = (1.0, 1.6)
RIDE_SPEED = (3.0, 4.0)
RIDE_SHARE = 0.4
#: A phone reports about this often, give or take the jitter (seconds).
REPORT_EVERY_S = 10.0
REPORT_JITTER_S = 2.5
#: GPS accuracy a phone states (metres): mostly good, sometimes poor.
ACCURACY_M = (5.0, 10.0, 40.0)  # low, mode, high
#: Share of reports that arrive late (after a newer one), and that arrive twice.
LATE_SHARE = 0.02
DUPLICATE_SHARE = 0.02
LATE_BY_S = (5.0, 40.0)
#: How often each worker's shift, the roster and the task list are read again
#: (seconds of the clock).
DUTY_EVERY_S = 60.0
TASK_POLL_S = 5.0
#: A tick never moves anyone further than this many seconds' worth (a paused process).
MAX_TICK_S = 30.0

ACCEPT_AFTER_S = (20.0, 120.0)
SET_OFF_AFTER_S = (10.0, 60.0)
RESOLVE_AFTER_S = (120.0, 420.0)
DECLINE_SHARE = 0.08
DECLINE_REASONS = ("正在处理其他任务", "不在本网格，申请改派", "临时有事，请改派他人")
#: What a worker writes on resolving, by event class (first two digits of the category).
NOTES = {"01": "已清理完毕，现场恢复整洁", "05": "已劝离并恢复通行", "06": "已报修并设置警示",
         "10": "已上门调解，双方达成一致", "11": "隐患已排除，已告知住户",
         "13": "已上门探望，老人状况良好", "14": "已协助办理完成", "15": "已现场劝导，声音已降低",
         "20": "已到现场核查设备并处置"}
DEFAULT_NOTE = "已到现场处置完毕"

_MLAT = 111_320.0  # metres per degree of latitude
_FIELD = frozenset({TaskStatus.ASSIGNED, TaskStatus.ACCEPTED, TaskStatus.EN_ROUTE,
                    TaskStatus.ON_SITE})

Report = tuple[str, float, float, int, float]  # worker id, lon, lat, at (ms), accuracy (m)


class Mode(IntEnum):
    WALK = 0
    EN_ROUTE = 1
    ON_SITE = 2


@dataclass(slots=True)
class Plan:
    """What a simulated worker will do next with one task, and when."""

    task_id: str
    worker: int
    status: TaskStatus
    lon: float
    lat: float
    category: str
    created: float
    next_at: float
    decline: bool
    arrived: bool = False


@dataclass(frozen=True, slots=True)
class Tick:
    """What one tick did: the reports sent (late resends included), how many the store took
    as news, and the task steps taken."""

    reports: list[Report]
    stored: int
    steps: list[tuple[str, TaskStatus]]
