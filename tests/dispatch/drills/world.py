"""A small drill world on a real Redis: three workers in one micro-grid, a manual clock."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.access.roles import Actor, Role
from dispatch.drills.muster import MusterDesk
from dispatch.drills.service import DrillService
from dispatch.events.workflow import ManualClock
from dispatch.store.drills import DrillStore
from dispatch.store.positions import PositionStore
from dispatch.workers.models import Worker, WorkerRole
from dispatch.workers.positions import PositionBook, PositionIn
from geo.locate import Locator

COORDINATOR = Actor(name="coord", role=Role.COORDINATOR)
POINT = (103.8890, 30.8080)


class Roster:
    def __init__(self, workers: list[Worker]) -> None:
        self.by_id = {w.id: w for w in workers}

    def many(self, ids):
        return [self.by_id[i] for i in ids if i in self.by_id]

    def all_workers(self):
        return list(self.by_id.values())

    def in_grid(self, micro):
        return [w for w in self.by_id.values() if w.grid == micro]


class NoHouseholds:
    def counts(self):
        return {}

    def priority_counts(self, micros):
        return {}


@dataclass
class World:
    clock: ManualClock
    store: DrillStore
    service: DrillService
    muster: MusterDesk
    positions: PositionBook
    micro: str
    street: str

    def worker(self, wid: str) -> Actor:
        return Actor(name=wid, role=Role.WORKER)

    def at(self, wid: str, east_m: float = 0.0, *, accuracy_m: float = 5.0) -> None:
        """Report ``wid`` ``east_m`` metres east of the muster point, now."""
        lon = POINT[0] + east_m / 95_500.0  # metres per degree of longitude near 30.8°N
        self.positions.report(wid, PositionIn(lon=lon, lat=POINT[1], accuracy_m=accuracy_m))


_LOCATORS: dict[str, Locator] = {}


def locator(grids) -> Locator:
    """One locator per grid set for the whole session (building one takes seconds)."""
    if grids.digest not in _LOCATORS:
        _LOCATORS[grids.digest] = Locator(grids)
    return _LOCATORS[grids.digest]


def make_world(redis_store, grids, *, households=None) -> World:
    clock = ManualClock(t=2_000_000_000.0)
    cell = locator(grids).locate(*POINT)
    workers = [Worker(id=f"DW{i}", name=f"队员{i}", phone="10012345678",
                      role=WorkerRole.GRID_WORKER, grid=cell.micro, home_lon=POINT[0] + 0.01,
                      home_lat=POINT[1]) for i in range(1, 4)]
    roster = Roster(workers)
    store = DrillStore.of(redis_store)
    positions = PositionBook(store=PositionStore.of(redis_store), clock=clock)
    service = DrillService(store=store, grids=grids, roster=roster,
                           households=households or NoHouseholds(), clock=clock)
    muster = MusterDesk(store=store, positions=positions, roster=roster, clock=clock)
    return World(clock=clock, store=store, service=service, muster=muster,
                 positions=positions, micro=cell.micro, street=cell.micro[:9])
