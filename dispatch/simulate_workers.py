"""The demo's grid workers in the field: phones that move and report, and people who act on
the tasks the centre gives them.

On-duty workers (by their shift, :func:`dispatch.workers.roster.duty_at`) walk or ride
around their micro-grid and its neighbours, never further than :data:`ROAM_M` from home,
pausing now and then. Their phones report every ten seconds or so, each with its own jitter
and GPS error, and sometimes a report arrives late or twice, as over a real mobile network:
the store keeps the newest, as it does for real phones. Off-duty workers send nothing, so
their last positions go stale and the screens fade them.

A task assigned to a simulated worker is accepted (or now and then declined, with a reason)
after a while; the worker sets off, heads for the event, says they are on site on arrival
and resolves the task with a note a few minutes later. Verification and the call-back stay
with the human operator. Every step goes through :class:`dispatch.tasks.service.TaskService`
as the worker, so the access policy and the change stream see them like any phone's.

One thread ticks once a second; a tick moves every active worker at once (numpy) and writes
that second's reports in one round trip.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from pydantic import ValidationError

from dispatch.access.policy import AccessDenied
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.workflow import Clock, SystemClock
from dispatch.simulate_field import (
    _FIELD,
    _MLAT,
    ACCEPT_AFTER_S,
    ACCURACY_M,
    DECLINE_REASONS,
    DECLINE_SHARE,
    DEFAULT_NOTE,
    DUPLICATE_SHARE,
    DUTY_EVERY_S,
    LATE_BY_S,
    LATE_SHARE,
    MAX_TICK_S,
    NOTES,
    REPORT_EVERY_S,
    REPORT_JITTER_S,
    RESOLVE_AFTER_S,
    RIDE_SHARE,
    RIDE_SPEED,
    ROAM_M,
    SET_OFF_AFTER_S,
    TASK_POLL_S,
    WALK_SPEED,
    Mode,
    Plan,
    Report,
    Tick,
)
from dispatch.store.errors import StoreError
from dispatch.store.events import EventNotFoundError, EventStore
from dispatch.store.positions import PositionStore
from dispatch.store.tasks import TaskMovedError, TaskNotFoundError, TaskStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.service import TaskService
from dispatch.workers.models import DutyStatus, Worker
from dispatch.workers.positions import FUTURE_SLACK_S, MAX_AGE_S, PositionIn
from dispatch.workers.roster import LOCAL_TZ, duty_at
from geo.grids import GridSet
from geo.model import Tier

log = logging.getLogger(__name__)


@dataclass
class WorkerSimulator:
    grids: GridSet
    workers: WorkerStore
    positions: PositionStore
    tasks: TaskService
    task_store: TaskStore
    events: EventStore
    clock: Clock = field(default_factory=SystemClock)
    #: Worker ids a person plays (the demo worker account): never moved, never acted for.
    reserved: Collection[str] = frozenset()
    #: Worker ids lent to a simulated drill right now (read each tick): their phones are
    #: the drill's to move, so this simulator sends none of their positions meanwhile.
    lent: Callable[[], Collection[str]] = frozenset
    decline_share: float = DECLINE_SHARE
    late_share: float = LATE_SHARE
    duplicate_share: float = DUPLICATE_SHARE
    seed: int = 11
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._py = random.Random(self.seed)
        micro = self.grids.tier(Tier.MICRO)
        self._polys = micro.geometry.to_numpy()
        shapely.prepare(self._polys)
        self._bounds = shapely.bounds(self._polys)
        rep = shapely.point_on_surface(self._polys)
        self._rep = np.column_stack([shapely.get_x(rep), shapely.get_y(rep)])
        codes = micro["code"].tolist()
        self._micro_at = {c: i for i, c in enumerate(codes)}
        parents = micro["parent_code"].tolist()
        self._micro_parent = dict(zip(codes, parents, strict=True))
        general = self.grids.tier(Tier.GENERAL)
        self._general_parent = dict(zip(general["code"], general["parent_code"], strict=True))
        self._by_general: dict[str, list[int]] = {}
        for i, parent in enumerate(parents):
            self._by_general.setdefault(parent, []).append(i)
        self._district = shapely.union_all(self.grids.tier(Tier.TOTAL).geometry.to_numpy())
        shapely.prepare(self._district)
        self._reserved = frozenset(self.reserved)
        self._load([])
        self._failed: set[str] = set()
        self._pending: list[tuple[float, Report]] = []
        self._last: float | None = None
        self._roster_at = -math.inf
        self._duty_cursor = 0
        self._polled_at = -math.inf

    # --- running ----------------------------------------------------------------------------
    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="worker-simulator", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            began = time.monotonic()
            try:
                self.tick()
            except Exception:  # the demo must keep running whatever one tick does
                log.exception("worker simulator tick failed")
            wait = max(0.0, 1.0 - (time.monotonic() - began))

    def tick(self) -> Tick:
        """One second of the district: shifts, tasks, movement, then the phones' reports."""
        now = self.clock.now()
        dt = 0.0 if self._last is None else min(max(now - self._last, 0.0), MAX_TICK_S)
        self._last = now
        if now - self._roster_at >= DUTY_EVERY_S or not self._ids:
            self._roster_at = now
            if self._refresh_roster():
                self._refresh_duty(now, range(len(self._ids)))
        self._refresh_duty(now, self._next_shift_check())
        if now - self._polled_at >= TASK_POLL_S:
            self._poll_tasks(now)
            self._polled_at = now
        self._move(now, dt)
        steps = self._work(now)
        reports = self._reports(now)
        stored = sum(self.positions.put_many(reports)) if reports else 0
        return Tick(reports=reports, stored=stored, steps=steps)

    # --- the roster and shifts --------------------------------------------------------------
    def _refresh_roster(self) -> bool:
        """Read the roster again when it changed size (the demo loads it after start-up)."""
        if self.workers.count() == len(self._ids) + self._skipped:
            return False
        self._load(self.workers.all())
        return True

    def _load(self, roster: list[Worker]) -> None:
        kept = [w for w in roster if w.id not in self._reserved and w.grid in self._micro_at]
        self._skipped = len(roster) - len(kept)
        self._roster = kept
        self._ids = [w.id for w in kept]
        self._index = {w.id: i for i, w in enumerate(kept)}
        n = len(kept)
        self._micro = np.array([self._micro_at[w.grid] for w in kept], dtype=np.int64)
        self._home = np.array([(w.home_lon, w.home_lat) for w in kept],
                              dtype=float).reshape(n, 2)
        self._mlon = _MLAT * np.cos(np.radians(self._home[:, 1]))
        self._pos = self._home.copy()
        self._target = self._home.copy()
        ride = self._rng.random(n) < RIDE_SHARE
        self._speed = np.where(ride, self._rng.uniform(*RIDE_SPEED, n),
                               self._rng.uniform(*WALK_SPEED, n))
        self._wait = np.zeros(n)
        self._next_report = np.full(n, np.inf)
        self._mode = np.zeros(n, dtype=np.int8)
        self._active = np.zeros(n, dtype=bool)
        self._on_duty = np.zeros(n, dtype=bool)
        self._busy: dict[int, str] = {}  # worker → the task they are out on
        self._nearby: dict[int, list[int]] = {}
        self._actors: dict[int, Actor] = {}
        self._plans: dict[str, Plan] = {}
        self._last_seen_at_home()

    def _last_seen_at_home(self) -> None:
        """Where each phone last reported before the demo began: near home, at the end of
        the worker's last outing (half an hour to twelve hours ago). Screens show these as
        stale until the worker comes on duty; a newer stored position is kept."""
        now = self.clock.now()
        ages = self._rng.uniform(1800.0, 12 * 3600.0, len(self._ids))
        self.positions.put_many([
            (wid, round(float(lon), 6), round(float(lat), 6), int((now - age) * 1000), 25.0)
            for wid, (lon, lat), age in zip(self._ids, self._home, ages, strict=True)])

    def _next_shift_check(self) -> range:
        """The next slice of the roster whose shifts to read: all of it once a minute, a
        sixtieth a tick, so no tick pays for the whole roster."""
        n = len(self._ids)
        if not n:
            return range(0)
        size = math.ceil(n / DUTY_EVERY_S)
        start = self._duty_cursor % n
        self._duty_cursor = start + size
        return range(start, min(start + size, n))

    def _refresh_duty(self, now: float, which: range) -> None:
        when = datetime.fromtimestamp(now, LOCAL_TZ)
        for i in which:
            on = duty_at(self._roster[i], when) is DutyStatus.ON_DUTY
            self._on_duty[i] = on
            if on and not self._active[i]:
                self._activate(i, now)
            elif not on and self._active[i] and i not in self._busy:
                self._active[i] = False

    def _activate(self, i: int, now: float) -> None:
        """A worker starts their shift (or is called out) from home."""
        self._active[i] = True
        self._pos[i] = self._home[i]
        self._mode[i] = Mode.WALK
        self._target[i] = self._waypoint(i)
        self._wait[i] = now + self._py.uniform(0.0, 60.0)
        self._next_report[i] = now + self._py.uniform(0.0, REPORT_EVERY_S)

    # --- walking ----------------------------------------------------------------------------
    def _move(self, now: float, dt: float) -> None:
        if dt <= 0:
            return
        moving = np.flatnonzero(self._active & (self._mode != Mode.ON_SITE)
                                & (self._wait <= now))
        if not len(moving):
            return
        here, there = self._pos[moving], self._target[moving]
        metres = np.column_stack([(there[:, 0] - here[:, 0]) * self._mlon[moving],
                                  (there[:, 1] - here[:, 1]) * _MLAT])
        dist = np.hypot(metres[:, 0], metres[:, 1])
        reach = self._speed[moving] * dt
        arrived = dist <= reach
        share = np.where(arrived, 1.0, reach / np.maximum(dist, 1e-9))
        self._pos[moving] = here + (there - here) * share[:, None]
        for i in moving[arrived]:
            self._arrive(int(i), now)

    def _arrive(self, i: int, now: float) -> None:
        if self._mode[i] == Mode.EN_ROUTE:
            self._mode[i] = Mode.ON_SITE
            plan = self._plans.get(self._busy.get(i, ""))
            if plan is not None:
                plan.arrived = True
            return
        if self._py.random() < 0.5:  # a word with a resident, a look at a doorway
            self._wait[i] = now + self._py.uniform(20.0, 180.0)
        self._target[i] = self._waypoint(i)

    def _waypoint(self, i: int) -> np.ndarray:
        """A point inside the worker's micro-grid or a neighbouring one, near enough home."""
        own = int(self._micro[i])
        cells = self._near_home(i)
        cell = own if self._py.random() < 0.5 or not cells else self._py.choice(cells)
        minx, miny, maxx, maxy = self._bounds[cell]
        xs = self._rng.uniform(minx, maxx, 16)
        ys = self._rng.uniform(miny, maxy, 16)
        inside = shapely.contains_xy(self._polys[cell], xs, ys)
        home = self._home[i]
        near = (np.hypot((xs - home[0]) * self._mlon[i], (ys - home[1]) * _MLAT)
                <= ROAM_M - 50.0)
        ok = np.flatnonzero(inside & near)
        if len(ok):
            return np.array([xs[ok[0]], ys[ok[0]]])
        return home.copy()

    def _near_home(self, i: int) -> list[int]:
        found = self._nearby.get(i)
        if found is None:
            members = self._by_general.get(self._micro_parent.get(self._roster[i].grid, ""), [])
            home = self._home[i]
            rep = self._rep[members] if members else np.empty((0, 2))
            dist = np.hypot((rep[:, 0] - home[0]) * self._mlon[i], (rep[:, 1] - home[1]) * _MLAT)
            found = [m for m, d in zip(members, dist, strict=True) if d <= ROAM_M * 0.6]
            self._nearby[i] = found
        return found

    # --- reporting --------------------------------------------------------------------------
    def _reports(self, now: float) -> list[Report]:
        due = np.flatnonzero(self._active & (self._next_report <= now))
        out: list[Report] = []
        if len(due):
            k = len(due)
            self._next_report[due] = now + REPORT_EVERY_S + self._rng.uniform(
                -REPORT_JITTER_S, REPORT_JITTER_S, k)
            low, mode, high = ACCURACY_M
            acc = self._rng.triangular(low, mode, high, k)
            off = np.minimum(np.abs(self._rng.normal(0.0, acc / 2)), acc)  # metres, within
            angle = self._rng.uniform(0.0, 2 * np.pi, k)  # the stated accuracy
            true = self._pos[due]
            lon = true[:, 0] + off * np.cos(angle) / self._mlon[due]
            lat = true[:, 1] + off * np.sin(angle) / _MLAT
            outside = ~shapely.contains_xy(self._district, lon, lat)
            lon[outside], lat[outside] = true[outside, 0], true[outside, 1]
            still = outside & ~shapely.contains_xy(self._district, lon, lat)
            lon[still], lat[still] = self._target[due[still], 0], self._target[due[still], 1]
            fix = now - self._rng.uniform(0.0, 1.5, k)  # the fix is a moment older than the send
            late = self._rng.random(k)
            twice = self._rng.random(k)
            for n, i in enumerate(due):
                report = (self._ids[i], round(float(lon[n]), 6), round(float(lat[n]), 6),
                          int(fix[n] * 1000), round(float(acc[n]), 1))
                if late[n] < self.late_share:
                    self._pending.append((now + self._py.uniform(*LATE_BY_S), report))
                    continue
                out.append(report)
                if twice[n] < self.duplicate_share:
                    self._pending.append((now + self._py.uniform(0.5, 3.0), report))
        if self._pending:
            ready = [r for at, r in self._pending if at <= now]
            self._pending = [(at, r) for at, r in self._pending if at > now]
            out += ready
        lent = self.lent()
        return [r for r in out if _valid(r, now) and r[0] not in lent]

    # --- tasks ------------------------------------------------------------------------------
    def _poll_tasks(self, now: float) -> None:
        """Pick up tasks assigned to simulated workers; forget those the centre took back."""
        rows = self.task_store.many(self.task_store.open_ids(limit=5_000))
        live: dict[str, dict[str, str]] = {}
        for t in rows:
            status = TaskStatus(t["status"])
            if status in _FIELD and t["worker"] in self._index and t["id"] not in self._failed:
                live[t["id"]] = t
        fresh = [t for tid, t in live.items() if tid not in self._plans]
        if fresh:
            where = self.events.fields_many([t["event"] for t in fresh],
                                            ("id", "lon", "lat", "category"))
            by_event = {h["id"]: h for h in where}
            for t in fresh:
                h = by_event.get(t["event"])
                if h is not None:
                    self._adopt(t, h, now)
        for tid in [tid for tid in self._plans if tid not in live]:
            self._release(self._plans.pop(tid), now)

    def _adopt(self, t: dict[str, str], h: dict[str, str], now: float) -> None:
        i = self._index[t["worker"]]
        status = TaskStatus(t["status"])
        plan = Plan(task_id=t["id"], worker=i, status=status, lon=float(h["lon"]),
                     lat=float(h["lat"]), category=h["category"],
                     created=float(t["created_at"]), decline=self._py.random() < self.decline_share,
                     next_at=now + (self._py.uniform(*ACCEPT_AFTER_S)
                                    if status is TaskStatus.ASSIGNED else 0.0))
        self._plans[t["id"]] = plan
        if status in (TaskStatus.EN_ROUTE, TaskStatus.ON_SITE):  # picked up after a restart
            self._set_off(plan, now, on_site=status is TaskStatus.ON_SITE)
            plan.next_at = now + self._py.uniform(*RESOLVE_AFTER_S)

    def _work(self, now: float) -> list[tuple[str, TaskStatus]]:
        done: list[tuple[str, TaskStatus]] = []
        for plan in sorted(self._plans.values(), key=lambda p: p.created):
            if now < plan.next_at:
                continue
            target = self._next_step(plan, now)
            if target is None:
                continue
            try:
                self.tasks.step(plan.task_id, target, actor=self._actor(plan.worker),
                                reason=self._py.choice(DECLINE_REASONS)
                                if target is TaskStatus.DECLINED else "",
                                note=NOTES.get(plan.category[:2], DEFAULT_NOTE)
                                if target is TaskStatus.RESOLVED else "")
            except (StepError, TaskMovedError, TaskNotFoundError, EventNotFoundError,
                    AccessDenied, StoreError) as exc:
                log.info("simulated worker %s left task %s: %s", self._ids[plan.worker],
                         plan.task_id, exc)
                self._failed.add(plan.task_id)
                self._release(self._plans.pop(plan.task_id), now)
                continue
            done.append((plan.task_id, target))
            self._advance(plan, target, now)
        return done

    def _next_step(self, plan: Plan, now: float) -> TaskStatus | None:
        i = plan.worker
        match plan.status:
            case TaskStatus.ASSIGNED:
                return TaskStatus.DECLINED if plan.decline else TaskStatus.ACCEPTED
            case TaskStatus.ACCEPTED:
                return TaskStatus.EN_ROUTE if self._busy.get(i, plan.task_id) == plan.task_id \
                    else None
            case TaskStatus.EN_ROUTE:
                return TaskStatus.ON_SITE if plan.arrived else None
            case TaskStatus.ON_SITE:
                return TaskStatus.RESOLVED
        return None

    def _advance(self, plan: Plan, target: TaskStatus, now: float) -> None:
        plan.status = target
        if target is TaskStatus.ACCEPTED:
            plan.next_at = now + self._py.uniform(*SET_OFF_AFTER_S)
        elif target is TaskStatus.EN_ROUTE:
            self._set_off(plan, now, on_site=False)
        elif target is TaskStatus.ON_SITE:
            plan.next_at = now + self._py.uniform(*RESOLVE_AFTER_S)
        else:  # declined or resolved: the task is no longer the worker's to carry
            self._release(self._plans.pop(plan.task_id), now)

    def _set_off(self, plan: Plan, now: float, *, on_site: bool) -> None:
        """The worker heads for the event, on duty or called out from home."""
        i = plan.worker
        if not self._active[i]:
            self._activate(i, now)
            self._next_report[i] = now
        self._busy[i] = plan.task_id
        self._target[i] = (plan.lon, plan.lat)
        self._wait[i] = now
        self._mode[i] = Mode.ON_SITE if on_site else Mode.EN_ROUTE
        if on_site:
            self._pos[i] = self._target[i]
            plan.arrived = True

    def _release(self, plan: Plan, now: float) -> None:
        """Back to the round (or home, after hours) once a task is off the worker's hands."""
        i = plan.worker
        if self._busy.get(i) != plan.task_id:
            return
        del self._busy[i]
        self._mode[i] = Mode.WALK
        self._wait[i] = now + self._py.uniform(30.0, 120.0)
        self._target[i] = self._waypoint(i)
        if not self._on_duty[i]:
            self._active[i] = False

    def _actor(self, i: int) -> Actor:
        actor = self._actors.get(i)
        if actor is None:
            micro = self._roster[i].grid
            general = self._micro_parent.get(micro, "")
            total = self._general_parent.get(general, "")
            actor = Actor(name=self._ids[i], role=Role.WORKER,
                          scope=Scope(Reach.GRIDS, frozenset({micro, general, total} - {""})))
            self._actors[i] = actor
        return actor

    # --- what tests and screens ask ---------------------------------------------------------
    def simulated(self) -> list[str]:
        """Ids of the workers this simulator plays (the roster less the reserved)."""
        return list(self._ids)

    def active(self) -> list[str]:
        """Ids of the workers reporting now (on duty, or out on a task)."""
        return [self._ids[i] for i in np.flatnonzero(self._active)]


def _valid(report: Report, now: float) -> bool:
    """What the position API checks of a phone's report (``PositionIn`` and the clock)."""
    worker, lon, lat, at_ms, accuracy = report
    try:
        PositionIn(lon=lon, lat=lat, accuracy_m=accuracy)
    except ValidationError as exc:
        log.warning("simulated report of %s refused: %s", worker, exc.errors()[0]["msg"])
        return False
    at = at_ms / 1000
    return now - MAX_AGE_S <= at <= now + FUTURE_SLACK_S
