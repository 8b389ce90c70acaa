"""Running a simulated drill against the live clock, and the runner every server keeps.

:class:`SimulatedDrill` plans every simulated person (:mod:`dispatch.drills.simulate`) and
plays them through the desks, the same calls the API makes for real reports; the drill's
clock decides when each action is due, so a pause holds them and the speed hurries them.
:class:`DrillRunner` checks arrivals against the fences each second for every running
muster; one process at a time holds it (a lease in Redis).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from dispatch.access.roles import Actor, Role
from dispatch.drills.models import DrillKind, DrillStatus, KindError, ResponderStatus
from dispatch.drills.muster import GeofenceError, MusterDesk
from dispatch.drills.simulate import Action, Player, muster_plan, sweep_plan
from dispatch.drills.sweep import SweepBatch, SweepDesk, SweepItem
from dispatch.events.workflow import Clock
from dispatch.store.drills import DrillStateError, DrillStore, StepBackError
from dispatch.workers.models import WorkerKind
from dispatch.workers.positions import PositionBook

log = logging.getLogger(__name__)
RUNNER = Actor(name="drill-runner", role=Role.SYSTEM)
BATCH = 200  # households per sweep report at most (a building is one batch)


@dataclass
class SimulatedDrill:
    store: DrillStore
    muster: MusterDesk
    sweep: SweepDesk
    households: Any  # HouseholdStore: ids and buildings
    positions: PositionBook
    roster: Any
    clock: Clock
    seed: int = 7
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def player(self, drill_id: str) -> Player:
        header = self.store.header(drill_id)
        planned = self.sweep.planned(drill_id)  # the planned entry: people, points, grids
        play = lambda due: self._play(drill_id, due)  # noqa: E731
        if header["kind"] == DrillKind.MUSTER.value:
            speed = float(header.get("speed") or 1)
            return Player(self._muster_actions(planned, speed=speed), play)
        return Player(self._sweep_actions(planned), play)

    def _play(self, drill_id: str, due: list[Action]) -> None:
        """Positions go to the store together (a gateway's batch); every other action alone,
        after the positions before it."""
        batch: list[Action] = []
        for action in due:
            if action.what == "position":
                batch.append(action)
                continue
            self._positions(batch)
            batch = []
            self._act(drill_id, action)
        self._positions(batch)

    def _positions(self, batch: list[Action]) -> None:
        if batch:
            at_ms = int(self.clock.now() * 1000)
            self.positions.store.put_many([(a.who, a.data[0], a.data[1], at_ms, a.data[2])
                                           for a in batch])

    def _muster_actions(self, planned: dict[str, Any], *, speed: float) -> list[Action]:
        ids = [p[0] for p in planned["participants"]]
        seen = self.positions.of(ids)
        people = {w.id: w for w in self.roster.many(ids)}
        starts = []
        for worker_id in ids:
            pos, w = seen.get(worker_id), people.get(worker_id)
            if pos is not None and not pos.stale:
                starts.append((worker_id, pos.lon, pos.lat))
            elif w is not None:
                starts.append((worker_id, w.home_lon, w.home_lat))
        where = {p[0]: p[2] for p in planned["participants"]}
        return muster_plan(starts, planned["points"], where, seed=self.seed, speed=speed)

    def _sweep_actions(self, planned: dict[str, Any]) -> list[Action]:
        buildings: dict[str, dict[str, list[str]]] = {}
        for micro in planned["households"]:
            grouped: dict[str, list[str]] = defaultdict(list)
            for hh in sorted(self.households.ids(micro)):
                grouped[hh[:20]].append(hh)
            buildings[micro] = dict(grouped)
        sweepers = {micro: [w.id for w in self.roster.in_grid(micro)
                            if w.kind is WorkerKind.PROFESSIONAL] or
                    [w.id for w in self.roster.in_grid(micro)] for micro in buildings}
        return sweep_plan(buildings, sweepers, seed=self.seed)

    def _act(self, drill_id: str, action: Action) -> None:
        actor = Actor(name=action.who or "sweeper", role=Role.WORKER)
        try:
            if action.what == "step":
                self.muster.respond(drill_id, ResponderStatus(action.data[0]), actor=actor)
            else:
                items = list(action.data)
                for i in range(0, len(items), BATCH):
                    batch = SweepBatch(reports=[SweepItem(household=h, status=s)
                                                for h, s in items[i:i + BATCH]])
                    self.sweep.report(drill_id, batch, actor=actor)
        except (GeofenceError, StepBackError) as exc:
            self.errors[type(exc).__name__] += 1
        except DrillStateError:
            self.errors["not running"] += 1

    def run(self, drill_id: str, *, tick_s: float = 0.2, until_factor: float = 2.0,
            stop: threading.Event | None = None) -> dict[str, Any]:
        """Play the drill to its end: everyone done and reached, or ``until_factor`` × the
        target in drill time; the runner's arrival checks run in the same loop."""
        stop = stop or threading.Event()
        player = self.player(drill_id)
        header = self.store.header(drill_id)
        limit = float(header["target_s"]) * until_factor
        muster = header["kind"] == DrillKind.MUSTER.value
        played = 0
        while not stop.is_set():
            status = self.store.header(drill_id)["status"]
            if DrillStatus(status).over:
                break
            t = self.store.drill_time(drill_id, now=self.clock.now())
            played += player.play_until(t)
            if muster and status == DrillStatus.RUNNING.value:
                self.muster.check_arrivals(drill_id, actor=RUNNER)
            if t >= limit or (player.left == 0 and t > player.last_t + 30):
                break
            stop.wait(tick_s)
        return {"played": played, "left": player.left, "errors": dict(self.errors),
                "played_late_by_drill_s": player.lag()}


@dataclass
class DrillRunner:
    """Checks every running muster's fences each second (one process holds the lease)."""

    store: DrillStore
    lease: Any  # Store.hold_lock
    muster: MusterDesk
    every_s: float = 1.0
    owner: str = field(default_factory=lambda: f"runner-{time.monotonic_ns()}")
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="drill-runner", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    def tick(self) -> int:
        if not self.lease("drill-runner", owner=self.owner, ttl_ms=int(self.every_s * 5000)):
            return 0
        arrived = 0
        for drill_id in sorted(self.store.live_ids()):
            try:
                arrived += len(self.muster.check_arrivals(drill_id, actor=RUNNER))
            except KindError:
                continue
        return arrived

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.tick()
            except Exception:  # a Redis outage must not end the runner
                log.exception("drill runner: a check failed; trying again in %.1f s",
                              self.every_s)


@dataclass
class SimulationHost:
    """Plays every live drill planned as simulated, each in its own thread (one process
    plays a drill: a lease per drill), so a coordinator can run an exercise from the screen."""

    store: DrillStore
    lease: Any  # Store.hold_lock
    make: Any  # () → SimulatedDrill
    every_s: float = 1.0
    owner: str = field(default_factory=lambda: f"sim-{time.monotonic_ns()}")
    _playing: dict[str, threading.Event] = field(default_factory=dict)
    _lent: dict[str, frozenset[str]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, name="drill-simulations", daemon=True).start()

    def lent(self) -> frozenset[str]:
        """Workers whose phones a simulated muster is playing now (the demo's field
        simulator leaves them alone meanwhile)."""
        return frozenset().union(*self._lent.values()) if self._lent else frozenset()

    def stop(self) -> None:
        self._stop.set()
        for stop in self._playing.values():
            stop.set()

    def tick(self) -> list[str]:
        started = []
        live = self.store.live_ids()
        for drill_id in sorted(live - set(self._playing)):
            header = self.store.header(drill_id)
            if header.get("simulated") != "1":
                continue
            if not self.lease(f"drill-sim:{drill_id}", owner=self.owner, ttl_ms=3_600_000):
                continue
            stop = self._playing[drill_id] = threading.Event()
            threading.Thread(target=self._play, args=(drill_id, stop), daemon=True,
                             name=f"drill-sim-{drill_id}").start()
            started.append(drill_id)
        return started

    def _play(self, drill_id: str, stop: threading.Event) -> None:
        try:
            self._lent[drill_id] = frozenset(self.store.responders(drill_id))
            played = self.make().run(drill_id, stop=stop)
            log.info("simulated drill %s played: %s", drill_id, played)
        except Exception:
            log.exception("simulated drill %s stopped", drill_id)
        finally:
            self._lent.pop(drill_id, None)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.tick()
            except Exception:
                log.exception("drill simulations: a check failed")
