"""Recommendations for an event from what Redis holds: the roster and the last positions.

Candidates are gathered, never scanned: the event's micro-grid workers, the leaders of its
three grids, and the nearest positions (a GEO search); only those are read and ranked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dispatch.store.candidates import CandidateStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks.recommend import Candidate, Place, Weights, rank
from dispatch.workers.cache import DutyCache, RosterCache
from dispatch.workers.models import DutyStatus, Worker
from dispatch.workers.positions import PositionBook

#: How far the nearest-worker search looks, and how many it brings back.
NEAR_RADIUS_M = 3_000.0
NEAR_COUNT = 30


def place_of(view: Mapping[str, Any]) -> Place:
    """An event's view (``EventService.get``) as ranking reads it."""
    grid, loc = view["grid"], view["location"]
    return Place(micro=grid["micro"], general=grid["general"], total=grid["total"],
                 lon=float(loc["lon"]), lat=float(loc["lat"]),
                 category=view["category"]["code"])


class Recommender:
    def __init__(self, *, workers: WorkerStore | RosterCache, positions: PositionBook,
                 gather: CandidateStore, weights: Weights,
                 duty: Callable[[Worker], DutyStatus] = lambda w: w.duty) -> None:
        self._workers = workers
        self._gather = gather
        self._positions = positions
        self._weights = weights
        self._duty = duty

    @property
    def weights(self) -> Weights:
        return self._weights

    def for_place(self, place: Place, *, limit: int = 10) -> list[Candidate]:
        found: dict[str, Worker] = {w.id: w for w in self._workers.in_grid(place.micro)}
        for code in (place.micro, place.general, place.total):
            if (leader := self._workers.leader_of(code)) is not None:
                found.setdefault(leader.id, leader)
        return self._in_one_read(place, found, limit=limit)

    def _in_one_read(self, place: Place, found: dict[str, Worker], *, limit: int
                     ) -> list[Candidate]:
        """One script call: nearest positions, the gathered workers' positions and everyone's
        open tasks together."""
        got = self._gather.gather(lon=place.lon, lat=place.lat, radius_m=NEAR_RADIUS_M,
                                  count=NEAR_COUNT, ids=list(found))
        near = self._positions.as_seen(got.near)
        seen = {s.worker_id: s for s in self._positions.as_seen(got.known.values())}
        seen |= {s.worker_id: s for s in near}
        found.update((w.id, w) for w in self._workers.many(
            [s.worker_id for s in near if s.worker_id not in found]))
        return rank(place, found.values(), weights=self._weights, seen=seen,
                    open_tasks=got.open_tasks,
                    on_duty_in_grid=self._on_duty(found.values(), place.micro),
                    duty=self._duty, limit=limit)

    def _on_duty(self, workers: Iterable[Worker], micro: str) -> dict[str, int]:
        """On-duty counts of the candidates' own micro-grids (for the coverage cost)."""
        grids = {w.grid for w in workers if w.grid != micro}
        if isinstance(self._duty, DutyCache):  # counted once a minute
            return {g: self._duty.on_duty_in(g, self._workers.in_grid(g)) for g in grids}
        return {g: sum(self._duty(w) is DutyStatus.ON_DUTY for w in self._workers.in_grid(g))
                for g in grids}
