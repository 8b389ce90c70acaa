"""Everything a running app holds: settings, Redis, the grid set and what is derived from it.

One owner for each side effect: the embedded Redis child is started and stopped here.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property

from dashboard.settings import Settings
from dispatch.access.credentials import Auth
from dispatch.access.lockout import SignInGuard
from dispatch.channels.iot.devices import DeviceRegistry
from dispatch.drills.conduct import SimulatedDrill
from dispatch.drills.muster import MusterDesk
from dispatch.drills.replay import Replays
from dispatch.drills.service import DrillService
from dispatch.drills.sweep import SweepDesk
from dispatch.events.intake import Intake
from dispatch.events.service import EventService
from dispatch.events.workflow import Clock, SystemClock
from dispatch.households.base import HouseholdBase
from dispatch.households.demo import ensure_demo_households
from dispatch.privacy.audit import AuditLog
from dispatch.privacy.migrate import seal_stored_events
from dispatch.privacy.vault import Vault, load_keys
from dispatch.store import Store
from dispatch.store.audit import AuditStore
from dispatch.store.candidates import CandidateStore
from dispatch.store.devices import DeviceStore
from dispatch.store.drills import DrillStore
from dispatch.store.hotline import HotlineStore
from dispatch.store.households import HouseholdStore
from dispatch.store.positions import PositionStore
from dispatch.store.server import attach_or_start, read_record
from dispatch.store.sessions import SessionStore
from dispatch.store.tasks import TaskStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks.notify import LogGateway, Notifier
from dispatch.tasks.recommend import DEFAULT_WEIGHTS, load_weights
from dispatch.tasks.recommender import Recommender
from dispatch.tasks.service import TaskService
from dispatch.workers.cache import DutyCache, RosterCache
from dispatch.workers.positions import PositionBook
from dispatch.workers.roster import demo_roster
from geo.catalog import demo_grid_set, load_grid_set
from geo.crs import CoordSystem
from geo.demo import DemoSpec
from geo.grids import GridSet
from geo.locate import Locator
from geo.model import Tier
from geo.payload import TierPayload, build_tier

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    store: Store
    grids: GridSet
    redis_url: str
    #: Who runs the embedded Redis when another process on the same data folder owns it.
    redis_owner: dict | None = None
    _stack: ExitStack = field(default_factory=ExitStack, repr=False)

    clock: Clock = field(default_factory=SystemClock)
    #: Make the data key file when there is none (the demo and benchmarks; a site makes its own)
    create_key: bool = False
    #: Running as ``grid-dispatch demo``: the demo accounts may sign in (nowhere else)
    demo: bool = False

    @cached_property
    def vault(self) -> Vault:
        return Vault(data_keys(self.settings, create=self.create_key))

    @cached_property
    def workers(self) -> WorkerStore:
        return WorkerStore.of(self.store)

    @cached_property
    def positions(self) -> PositionBook:
        return PositionBook(store=PositionStore.of(self.store), clock=self.clock)

    @cached_property
    def recommender(self) -> Recommender:
        weights = load_weights(self.settings.recommend_file or DEFAULT_WEIGHTS)
        return Recommender(workers=self.roster, positions=self.positions, weights=weights,
                           duty=DutyCache(clock=self.clock),
                           gather=CandidateStore.of(self.store))

    @cached_property
    def roster(self) -> RosterCache:
        """The roster in memory for hot reads (an import is seen within a second)."""
        return RosterCache(store=self.workers)

    @cached_property
    def task_store(self) -> TaskStore:
        return TaskStore.of(self.store)

    @cached_property
    def gateway(self) -> LogGateway:
        """The message gateway (SMS / WeCom); a site's adapter replaces this one."""
        return LogGateway()

    @cached_property
    def tasks(self) -> TaskService:
        return TaskService(tasks=self.task_store, events=self.store.events,
                           workers=self.workers, clock=self.clock,
                           notifier=Notifier(gateway=self.gateway))

    # --- drills and the resident base ------------------------------------------------------
    @cached_property
    def household_store(self) -> HouseholdStore:
        return HouseholdStore.of(self.store)

    @cached_property
    def households(self) -> HouseholdBase:
        return HouseholdBase(store=self.household_store, vault=self.vault)

    def load_demo_households(self) -> int:
        """The synthetic resident base, loaded once into an empty store."""
        return ensure_demo_households(self.household_store, self.vault, self.grids,
                                      self.settings.cache_dir, self.settings.demo_seed)

    @cached_property
    def drill_store(self) -> DrillStore:
        return DrillStore.of(self.store)

    @cached_property
    def replays(self) -> Replays:
        return Replays(self.drill_store)

    @cached_property
    def drills(self) -> DrillService:
        return DrillService(store=self.drill_store, grids=self.grids, roster=self.roster,
                            households=self.household_store, clock=self.clock,
                            scenarios_file=self.settings.drill_scenarios_file,
                            notifier=Notifier(gateway=self.gateway))

    @cached_property
    def muster(self) -> MusterDesk:
        return MusterDesk(store=self.drill_store, positions=self.positions, roster=self.roster,
                          clock=self.clock)

    @cached_property
    def sweep(self) -> SweepDesk:
        return SweepDesk(store=self.drill_store, households=self.household_store,
                         base=self.households, intake=self.intake, grids=self.grids,
                         vault=self.vault, clock=self.clock)

    def simulated_drill(self, *, seed: int | None = None) -> SimulatedDrill:
        return SimulatedDrill(store=self.drill_store, muster=self.muster, sweep=self.sweep,
                              households=self.household_store, positions=self.positions,
                              roster=self.roster, clock=self.clock,
                              seed=self.settings.demo_seed if seed is None else seed)

    def load_demo_roster(self) -> int:
        """The synthetic roster, loaded once into an empty store (a site imports its own)."""
        if self.workers.count():
            return 0
        roster = demo_roster(self.settings.cache_dir, self.grids, seed=self.settings.demo_seed)
        return self.workers.replace_all(roster, actor="demo", role="system")

    @cached_property
    def sessions(self) -> SessionStore:
        found = SessionStore.of(self.store)
        self.on_close(found.close)
        return found

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(store=AuditStore.of(self.store), clock=self.clock)

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.grids)

    @cached_property
    def intake(self) -> Intake:
        return Intake(store=self.store.events, locator=self.locator, clock=self.clock,
                      vault=self.vault)

    @cached_property
    def events(self) -> EventService:
        if sealed := seal_stored_events(self.store.events, self.vault):
            log.info("personal data: %s stored event(s) sealed and scrubbed", sealed)
        return EventService(store=self.store.events, clock=self.clock, vault=self.vault,
                            audit=self.audit)

    @cached_property
    def auth(self) -> Auth:
        return Auth(self.store.auth, demo_mode=self.demo)

    @cached_property
    def sign_in_guard(self) -> SignInGuard:
        return SignInGuard(self.store.sign_in_failures)

    @cached_property
    def devices(self) -> DeviceRegistry:
        return DeviceRegistry(store=DeviceStore.of(self.store), locator=self.locator,
                              clock=self.clock)

    @cached_property
    def hotline_orders(self) -> HotlineStore:
        return HotlineStore.of(self.store)

    @cached_property
    def display_coords(self) -> CoordSystem:
        """What the map draws in: GCJ-02 under Amap's tiles, else WGS-84. Every overlay
        (grids, event markers) is drawn in it, so an event shows in its own grid."""
        return CoordSystem.GCJ02 if self.settings.tiles == "amap" else CoordSystem.WGS84

    @cached_property
    def layer_digest(self) -> str:
        """Names the served layers: the grid set *and* the coordinates they are drawn in, so a
        browser never keeps a layer cached for another system."""
        key = f"{self.grids.digest}:{self.display_coords.value}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @cached_property
    def payloads(self) -> dict[str, TierPayload]:
        """Served map layers by name: the three tiers plus street outlines."""
        display = self.display_coords
        out = {t.value: build_tier(self.grids, t, display=display) for t in Tier}
        out["streets"] = build_tier(_streets_as_grid_set(self.grids), Tier.TOTAL, display=display)
        return out

    def on_close(self, fn) -> None:
        """Run ``fn`` when the runtime closes, before Redis goes away (last added, first run)."""
        self._stack.callback(fn)

    def close(self) -> None:
        self._stack.close()
        self.store.close()


def data_keys(settings: Settings, *, create: bool) -> list[str]:
    """The site's data keys: the environment's, else the key file's (made if ``create``)."""
    key = settings.data_key
    return load_keys(env_value=key.get_secret_value() if key else None,
                     key_file=settings.data_key_file, create=create)


def _streets_as_grid_set(grids: GridSet) -> GridSet:
    streets = grids.streets_frame().rename(columns={"street_code": "code"})
    streets = streets.assign(tier=Tier.TOTAL.value, parent_code="")
    return GridSet.from_frame(streets, synthetic=grids.synthetic, source="streets")


def open_runtime(settings: Settings, *, warm: bool = True, load_grids: bool = True,
                 create_key: bool = False, demo: bool = False) -> Runtime:
    """Connect (or start) Redis, load the grid set, record it, and optionally pre-build caches."""
    if warm:  # a server without its data key says so before anything starts
        data_keys(settings, create=create_key)
    stack = ExitStack()
    try:
        url, owner = settings.redis_url, None
        if not url:
            folder = settings.data_dir / "redis"
            url, server = attach_or_start(folder, appendfsync=settings.appendfsync)
            if server is not None:
                stack.callback(server.stop)
                log.info("embedded redis-server pid %s at %s", server.pid, url)
            else:
                owner = read_record(folder)
                log.info("using the embedded redis-server of process %s (%s) at %s",
                         owner and owner.get("owner_pid"), owner and owner.get("owner"), url)
        store = Store.from_url(url)
        if upgraded := store.upgrade_layout():
            log.info("stored data upgraded: %s index entries rescaled to milliseconds", upgraded)
        grids = grids_for(settings) if load_grids else _EMPTY
        if load_grids:
            store.record_grid_set(grids.summary() | {"source": grids.source}, actor="system")
        runtime = Runtime(settings=settings, store=store, grids=grids, redis_url=url,
                          redis_owner=owner, _stack=stack, create_key=create_key,
                          demo=demo)
        if warm:
            _ = runtime.payloads, runtime.locator, runtime.vault
        return runtime
    except BaseException:
        stack.close()
        raise


_EMPTY = None  # type: ignore[assignment]  # admin commands need no grid set


def grids_for(settings: Settings) -> GridSet:
    """The grid set every command and the server use: the site's file, else the demo."""
    if settings.grids_file:
        return load_grid_set(settings.grids_file, synthetic=False)
    return demo_grid_set(settings.cache_dir, DemoSpec(seed=settings.demo_seed))
