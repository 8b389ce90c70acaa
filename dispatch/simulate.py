"""The demo's district in motion: reports from every channel on a daily rhythm, and staff
working them through the seven steps, some late enough to escalate.

It goes through the same intake and workflow as real traffic, with its own named actors, so
everything it does is in the change stream like anything else.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import shapely

from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.channels.iot.alarms import AlarmService
from dispatch.channels.iot.devices import DeviceRegistry, DeviceType, UnknownDeviceError
from dispatch.channels.open311.intake import report_from_form
from dispatch.channels.open311.spec import Open311Error
from dispatch.events.intake import Intake, IntakeError, Report
from dispatch.events.models import EventIn, Satisfaction, Source, Status
from dispatch.events.service import EventFilter, EventService
from dispatch.events.workflow import TransitionError
from dispatch.store.tasks import TaskMovedError, TaskTakenError
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.recommender import Recommender, place_of
from dispatch.tasks.service import ASSIGN_FROM, WISH_CATEGORY, TaskService
from geo.grids import GridSet
from geo.model import Tier

log = logging.getLogger(__name__)
CHINA = timezone(timedelta(hours=8))

#: Relative report rate by hour of day (Beijing time): quiet nights, morning and afternoon peaks.
HOURLY = (0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.7, 0.95, 1.0, 1.0, 0.9,
          0.7, 0.75, 0.9, 0.95, 0.9, 0.8, 0.7, 0.65, 0.55, 0.45, 0.3, 0.2)

#: (source, weight, categories) — what each channel mostly brings in.
CHANNELS = (
    (Source.WORKER, 0.35, ("01001", "01002", "05001", "05002", "06002", "06003", "11004",
                           "13001", "11001")),
    (Source.RESIDENT, 0.2, ("15002", "10001", "06002", "01003", "14002", "10002")),
    (Source.HOTLINE, 0.15, ("14001", "15002", "03001", "10002")),
    (Source.ONLINE, 0.05, ("03001", "02001", "02002", "15001")),
    (Source.OPEN311, 0.05, ("01001", "06002", "15002", "05002")),
    (Source.IOT, 0.2, ("20001", "20002", "20003", "20004", "20005", "20006")),
)
_DESCRIPTIONS = {
    "01001": "小区门口暴露垃圾堆积，气味明显", "01002": "人行道上堆放建筑材料",
    "01003": "路面泥浆未清扫", "02001": "楼顶广告牌未经审批", "02002": "单元门口乱张贴小广告",
    "03001": "夜间施工噪声扰民", "05001": "占道经营影响通行", "05002": "消防通道被车辆占用",
    "06002": "路灯不亮已两天", "06003": "河边护栏松动", "10001": "楼上漏水邻里协商未果",
    "10002": "物业服务费争议", "11001": "楼道堆放杂物堵塞消防通道", "11004": "电动车在楼道内充电",
    "13001": "独居老人多日未出门，请上门看看", "14001": "咨询社保卡办理",
    "14002": "希望帮忙修理轮椅",
    "15001": "小河沟水体发黑", "15002": "广场舞音响声音过大",
    "20001": "智慧井盖倾斜告警", "20002": "智慧井盖开启告警", "20003": "智慧井盖位移告警",
    "20004": "井下水位超限告警", "20005": "设备电量低", "20006": "视频监控识别异常聚集",
}
#: Chance per minute that staff take an event in this status one step further.
PACE = {Status.REPORTED: (Status.REGISTERED, 0.9), Status.REGISTERED: (Status.DISPATCHED, 0.8),
        Status.DISPATCHED: (Status.SIGNED, 0.6), Status.SIGNED: (Status.IN_PROGRESS, 0.8),
        Status.IN_PROGRESS: (Status.FEEDBACK, 0.25), Status.FEEDBACK: (Status.VERIFIED, 0.5),
        Status.VERIFIED: (Status.CLOSED, 0.9), Status.RETURNED: (Status.DISPATCHED, 0.7),
        Status.REOPENED: (Status.DISPATCHED, 0.7)}


_DEVICE_ALARMS = {DeviceType.MANHOLE_COVER: ("tilt", "opened", "displaced", "low_battery"),
                  DeviceType.WATER_LEVEL: ("water_level", "low_battery"),
                  DeviceType.CAMERA: ("camera",)}


_DEVICE_NAMES = {DeviceType.MANHOLE_COVER: "智慧井盖", DeviceType.WATER_LEVEL: "水位传感器",
                 DeviceType.CAMERA: "视频监控"}


@dataclass
class Simulator:
    grids: GridSet
    intake: Intake
    events: EventService
    registry: DeviceRegistry | None = None  # IoT alarms go through the real device registry
    peak_per_minute: float = 12.0
    seed: int = 1
    tasks: TaskService | None = None  # dispatch through tasks (the demo)
    recommender: Recommender | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        micro = self.grids.tier(Tier.MICRO)
        self._geoms = micro.geometry.to_numpy()
        # A list, not an array: random.choices takes a sequence of weights.
        self._weights: list[float] = micro["residents"].to_numpy(dtype=float).tolist()
        self._names = micro["name"].to_list()
        self._devices = self._rng.sample(range(len(micro)), k=min(40, len(micro)))
        self._operator = Actor(name="调度员·值班", role=Role.OPERATOR)
        self._workers = [Actor(name=f"网格员{i:03d}", role=Role.WORKER) for i in range(1, 41)]
        self._alarms: AlarmService | None = None
        if self.registry is not None:
            self._alarms = AlarmService(registry=self.registry, intake=self.intake,
                                        events=self.events)
            self._register_devices(self.registry)

    def _register_devices(self, registry: DeviceRegistry) -> None:
        types = list(_DEVICE_ALARMS)
        admin = Actor(name="物联平台", role=Role.ADMIN)
        for n, index in enumerate(self._devices):
            point = self._geoms[index].point_on_surface()
            kind = types[n % len(types)]
            registry.register({
                "device_id": f"SIM-{kind.value}-{n:03d}", "type": kind.value,
                "lon": round(point.x, 6), "lat": round(point.y, 6),
                "name": self._names[index] + _DEVICE_NAMES[kind],
                "address": self._names[index]}, actor=admin)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._gap()):
            try:
                self.report_one()
                if self._rng.random() < 0.5:
                    self.work_one_round()
            except Exception:  # the demo must keep running whatever one step does
                log.exception("simulator step failed")

    def _gap(self) -> float:
        hour = datetime.now(CHINA).hour
        rate = self.peak_per_minute * HOURLY[hour] / 60.0
        return self._rng.expovariate(max(rate, 0.02))

    def report_one(self) -> str | None:
        source, cats = self._channel()
        if source is Source.IOT and self._alarms is not None:
            return self._alarm(self._alarms)
        if source is Source.OPEN311:
            return self._open311(cats)
        category = self._rng.choice(cats)
        index, lon, lat = self._place(source)
        report = Report(
            data=EventIn(category=category, lon=lon, lat=lat,
                         description=_DESCRIPTIONS.get(category, "群众反映问题"),
                         address=self._names[index],
                         reporter_phone="" if source is Source.IOT else self._phone()),
            source=source,
            dedupe_key=f"sim-device-{index}-{category}" if source is Source.IOT else "",
            dedupe_window_s=600 if source is Source.IOT else 0,
        )
        actor = {Source.WORKER: self._rng.choice(self._workers),
                 Source.IOT: Actor(name=f"device-{index}", role=Role.DEVICE)}.get(
            source, Actor(name=source.value, role=Role.INTEGRATION))
        try:
            return self.intake.submit(report, actor=actor).id
        except IntakeError:
            return None

    def _alarm(self, alarms: AlarmService) -> str | None:
        """A sensor reports; a flapping one repeats and folds into its open event."""
        n = self._rng.randrange(len(self._devices))
        kind = list(_DEVICE_ALARMS)[n % len(_DEVICE_ALARMS)]
        payload = {"device_id": f"SIM-{kind.value}-{n:03d}",
                   "alarm": self._rng.choice(_DEVICE_ALARMS[kind]),
                   "value": round(self._rng.uniform(5, 40), 1)}
        actor = Actor(name="物联平台", role=Role.DEVICE)
        try:
            return alarms.receive(payload, actor=actor, now=time.time()).event_id
        except (IntakeError, UnknownDeviceError):
            return None

    def _open311(self, cats: tuple[str, ...]) -> str | None:
        index, lon, lat = self._place(Source.OPEN311)
        code = self._rng.choice(cats)
        form = {"service_code": code, "lat": str(lat), "long": str(lon),
                "description": _DESCRIPTIONS.get(code, "群众反映问题"),
                "address_string": self._names[index], "phone": self._phone()}
        try:
            report = report_from_form(form)
        except Open311Error:
            return None
        actor = Actor(name="网络理政平台", role=Role.INTEGRATION)
        try:
            return self.intake.submit(report, actor=actor).id
        except IntakeError:
            return None

    def work_one_round(self) -> int:
        """Staff move a handful of open events one step on; a few are returned or reopened.

        With the task service (the demo), the duty operator dispatches through tasks to the
        best recommendation, and verifies and calls back what workers resolved; the workers'
        own steps are the worker simulator's."""
        moved = 0
        for view in self.events.list(EventFilter(limit=60)):
            if self.tasks is not None and self._work_task(view):
                moved += 1
                continue
            waiting = Status(view["status"]) in ASSIGN_FROM and view["status"] != Status.REPORTED
            if self.tasks is not None and (view["task"] or waiting):
                continue  # dispatching is through tasks, and a task's steps are the worker's
            status = Status(view["status"])
            if status not in PACE or self._rng.random() > PACE[status][1] / 4:
                continue
            target, field_work, reason = self._next(status)
            actor = self._worker_for(view) if field_work else self._operator
            extra = {"assignee": self._worker_for(view).name} \
                if target is Status.DISPATCHED else None
            try:
                self.events.move(view["id"], target, actor=actor, reason=reason, extra=extra)
                moved += 1
            except TransitionError:
                continue
        return moved

    def _work_task(self, view: dict[str, Any]) -> bool:
        """The duty operator's part of a task: assign, verify, call back. True if it acted."""
        if self.tasks is None or self.recommender is None:
            return False
        rng = self._rng
        try:
            if not view["task"]:
                status = Status(view["status"])
                if (status not in ASSIGN_FROM or status is Status.REPORTED
                        or view["category"]["code"] == WISH_CATEGORY  # the wall's, not ours
                        or rng.random() > 0.2):
                    return False
                best = self.recommender.for_place(place_of(view), limit=1)
                if not best:
                    return False
                self.tasks.assign(view["id"], best[0].worker.id, actor=self._operator)
                return True
            task = self.tasks.get(view["task"])
            step = TaskStatus(task["status"])
            if step is TaskStatus.RESOLVED and rng.random() < 0.15:
                self.tasks.step(task["id"], TaskStatus.VERIFIED, actor=self._operator)
                return True
            if step is TaskStatus.VERIFIED and rng.random() < 0.2:
                verdict = rng.choices(list(Satisfaction), weights=(80, 15, 5))[0]
                self.tasks.call_back(task["id"], verdict, actor=self._operator)
                return True
            if step is TaskStatus.CALLED_BACK and rng.random() < 0.2:
                self.tasks.step(task["id"], TaskStatus.RETURNED, actor=self._operator,
                                reason="回访不满意，重新办理")
                return True
        except (StepError, TaskMovedError, TaskTakenError, TransitionError):
            return False
        return False

    def _next(self, status: Status) -> tuple[Status, bool, str]:
        """The next step, whether a grid worker takes it (else the operator), and why."""
        target = PACE[status][0]
        if status is Status.DISPATCHED and self._rng.random() < 0.08:
            return Status.RETURNED, True, "不属于本网格职责范围，申请改派"
        if status is Status.FEEDBACK and self._rng.random() < 0.06:
            return Status.REOPENED, False, "回访不满意，重新办理"
        return target, status in (Status.DISPATCHED, Status.SIGNED, Status.IN_PROGRESS), ""

    def _worker_for(self, view: dict[str, Any]) -> Actor:
        """The worker the event was dispatched to, else one of its micro-grid's workers."""
        name = view.get("assignee") or self._rng.choice(self._workers).name
        return Actor(name=name, role=Role.WORKER,
                     scope=Scope(Reach.GRIDS, frozenset({view["grid"]["micro"]})))

    def _channel(self) -> tuple[Source, tuple[str, ...]]:
        weights = [w for _, w, _ in CHANNELS]
        source, _, cats = self._rng.choices(CHANNELS, weights=weights)[0]
        return source, cats

    def _place(self, source: Source) -> tuple[int, float, float]:
        if source is Source.IOT:
            index = self._rng.choice(self._devices)
        else:
            index = self._rng.choices(range(len(self._geoms)), weights=self._weights)[0]
        geom = self._geoms[index]
        minx, miny, maxx, maxy = geom.bounds
        for _ in range(50):
            lon, lat = self._rng.uniform(minx, maxx), self._rng.uniform(miny, maxy)
            if shapely.contains_xy(geom, lon, lat):
                return index, round(lon, 6), round(lat, 6)
        point = geom.point_on_surface()
        return index, point.x, point.y

    def _phone(self) -> str:
        return f"1{self._rng.choice('3589')}{self._rng.randrange(10**9):09d}"


def rate_now(peak_per_minute: float) -> float:
    """Reports per minute the simulator aims for at this hour."""
    return peak_per_minute * HOURLY[datetime.now(CHINA).hour]

