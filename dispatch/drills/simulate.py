"""Simulated responders and sweepers, for exercises, the demo, tests and benchmarks.

Each simulated person is planned up front in drill seconds, from seeded randomness:
responders take a reaction delay to acknowledge, set off, travel from where they are at a
speed of their means (on foot, e-bike, car) along a route longer than the straight line,
report their position as a phone does, and tap "arrived" or leave it to the fence; a share
never answer. Sweepers work through their micro-grid building by building at a pace of
their own, reporting each building as one batch; some households are not home, a few need
help, and a few micro-grids lag. The plans are then played against the drill's own clock
through the same service calls as real reports, so pause, resume and acceleration apply.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dispatch.drills.models import HouseholdStatus, ResponderStatus

EARTH_M = 6_371_008.8
SPEEDS_MPS = (1.4, 4.5, 8.0)  # on foot, e-bike, car
MEANS_P = (0.20, 0.55, 0.25)
ROUTE_FACTOR = 1.35  # streets are longer than the straight line
REPORT_EVERY_S = 10.0  # a phone's position report while moving (wall seconds)


@dataclass(frozen=True, slots=True)
class Action:
    t: float  # drill seconds
    who: str  # worker id
    what: str  # "step", "position", "sweep"
    data: tuple[Any, ...] = ()

    def __lt__(self, other: Action) -> bool:
        return (self.t, self.who) < (other.t, other.who)


@dataclass(frozen=True)
class MusterTuning:
    never_answer: float = 0.03
    ack_median_s: float = 45.0
    set_off_median_s: float = 40.0
    tap_arrived: float = 0.5  # the rest leave arrival to the fence


@dataclass(frozen=True)
class SweepTuning:
    finish_median_s: float = 600.0  # a micro-grid's sweep, start to last building
    spread: float = 0.35  # lognormal sigma of that
    lagging: float = 0.03  # micro-grids taking twice as long
    unreached: float = 0.002  # households never reached (door closed, no answer)
    not_home: float = 0.06
    vacant: float = 0.03
    needs_help: float = 0.002


def muster_plan(responders: Sequence[tuple[str, float, float]], points: Sequence[dict[str, Any]],
                where: dict[str, int], *, seed: int, speed: float = 1.0,
                tuning: MusterTuning = MusterTuning()) -> list[Action]:
    """Every responder's actions: (worker id, start lon, start lat) → steps and positions.
    A phone reports every 10 s of wall time, so at ×60 a report covers 10 drill minutes'
    worth of seconds less often: every ``10 × speed`` drill seconds, at most 120."""
    rng = np.random.default_rng(seed)
    every = min(REPORT_EVERY_S * speed, 120.0)
    out: list[Action] = []
    for worker, lon, lat in responders:
        if rng.random() < tuning.never_answer:
            continue
        point = points[where.get(worker, 0)]
        ack = float(rng.lognormal(math.log(tuning.ack_median_s), 0.6))
        off = ack + float(rng.lognormal(math.log(tuning.set_off_median_s), 0.5))
        out.append(Action(ack, worker, "step", (ResponderStatus.ACKNOWLEDGED.value,)))
        out.append(Action(off, worker, "step", (ResponderStatus.EN_ROUTE.value,)))
        goal = _inside(point, rng)
        out += _travel(worker, (lon, lat), goal, start=off, every=every,
                       speed=float(rng.choice(SPEEDS_MPS, p=MEANS_P)), rng=rng)
        if rng.random() < tuning.tap_arrived:
            out.append(Action(out[-1].t + float(rng.uniform(2, 20)), worker, "step",
                              (ResponderStatus.ARRIVED.value,)))
    return sorted(out)


def sweep_plan(buildings: dict[str, dict[str, list[str]]], sweepers: dict[str, list[str]], *,
               seed: int, tuning: SweepTuning = SweepTuning()) -> list[Action]:
    """micro → building → household ids, and micro → its sweepers' ids → building batches."""
    rng = np.random.default_rng(seed)
    out: list[Action] = []
    for micro in sorted(buildings):
        crew = sweepers.get(micro) or [""]
        total = float(rng.lognormal(math.log(tuning.finish_median_s), tuning.spread))
        if rng.random() < tuning.lagging:
            total *= 2.0
        blocks = sorted(buildings[micro].items())
        n_households = sum(len(h) for _, h in blocks) or 1
        clock = float(rng.uniform(10, 60))
        for i, (_, households) in enumerate(blocks):
            clock += total * len(households) / n_households
            items = _findings(households, rng, tuning)
            if items:
                out.append(Action(clock, crew[i % len(crew)], "sweep", tuple(items)))
    return sorted(out)


def _findings(households: list[str], rng: np.random.Generator,
              tuning: SweepTuning) -> list[tuple[str, str]]:
    draws = rng.random(len(households))
    cuts = np.cumsum([tuning.unreached, tuning.needs_help, tuning.vacant, tuning.not_home])
    out = []
    for hh, d in zip(households, draws, strict=True):
        if d < cuts[0]:
            continue
        status = (HouseholdStatus.NEEDS_HELP if d < cuts[1] else HouseholdStatus.VACANT
                  if d < cuts[2] else HouseholdStatus.NOT_HOME if d < cuts[3]
                  else HouseholdStatus.SAFE)
        out.append((hh, status.value))
    return out


def _inside(point: dict[str, Any], rng: np.random.Generator) -> tuple[float, float]:
    """A spot well inside the fence (within 60 % of its radius)."""
    r = point["radius_m"] * 0.6 * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    return _offset(point["lon"], point["lat"], r * math.cos(a), r * math.sin(a))


def _travel(worker: str, origin: tuple[float, float], goal: tuple[float, float], *,
            start: float, speed: float, every: float,
            rng: np.random.Generator) -> list[Action]:
    (lon0, lat0), (lon1, lat1) = origin, goal
    dist = _metres(lon0, lat0, lon1, lat1) * ROUTE_FACTOR
    duration = max(dist / speed, 1.0)
    out = []
    steps = max(1, int(duration // every))
    for k in range(1, steps + 1):
        f = k / steps
        jitter = float(rng.uniform(-2, 2))
        out.append(Action(start + duration * f + jitter * (k < steps), worker, "position",
                          (lon0 + (lon1 - lon0) * f, lat0 + (lat1 - lat0) * f,
                           float(rng.uniform(5, 25)))))
    return out


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    k = math.cos(math.radians((lat1 + lat2) / 2))
    return EARTH_M * math.radians(math.hypot((lon2 - lon1) * k, lat2 - lat1))


def _offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    dlat = math.degrees(north_m / EARTH_M)
    dlon = math.degrees(east_m / (EARTH_M * math.cos(math.radians(lat))))
    return lon + dlon, lat + dlat


@dataclass
class Player:
    """Plays planned actions as the drill's clock passes them (pauses hold them back)."""

    actions: list[Action]
    do: Callable[[list[Action]], None]  # the due actions, in order, at once
    _heap: list[Action] = field(default_factory=list)
    #: how far behind its time each action was played (drill seconds): a player that cannot
    #: keep up at a high speed says so instead of quietly drawing a later curve
    lags: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._heap = list(self.actions)
        heapq.heapify(self._heap)

    def play_until(self, t: float) -> int:
        due = []
        while self._heap and self._heap[0].t <= t:
            due.append(heapq.heappop(self._heap))
        if due:
            self.do(due)
            self.lags += [t - a.t for a in due]
        return len(due)

    def lag(self) -> dict[str, float]:
        if not self.lags:
            return {"p50_s": 0.0, "p99_s": 0.0, "max_s": 0.0}
        q = np.percentile(np.asarray(self.lags), [50, 99, 100])
        return {"p50_s": round(float(q[0]), 1), "p99_s": round(float(q[1]), 1),
                "max_s": round(float(q[2]), 1)}

    @property
    def left(self) -> int:
        return len(self._heap)

    @property
    def last_t(self) -> float:
        return max((a.t for a in self._heap), default=0.0)
