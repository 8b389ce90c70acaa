"""bench assign: who to send (recommendations) and sending them (atomic assignments).

On a fresh embedded Redis holding the demo roster (7,461 workers), each with a position near
home:

- Recommendations: ``Recommender.for_place`` for events at random points of the district,
  built as the server builds it, while a background thread moves every worker every 10 s
  (746 reports/s, ``put_many`` in small batches paced per 100 ms). Beside it, the naive full
  scan: read the whole roster and every position, and ``rank`` all 7,461 workers.
- Assignments: ``TaskStore.assign`` (the one Lua script per assignment) from several threads,
  beside the same records written without the script (one non-atomic pipeline of HSET, ZADD,
  SADD and SET per assignment, same threads). Then K threads assign one event at the same
  moment, again and again: exactly one of them must win each time.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from dashboard.runtime import Runtime, grids_for
from dispatch.access.roles import Actor, Role
from dispatch.events.intake import MAX_BATCH, Report, parse
from dispatch.events.models import Severity, Source, Status, categories
from dispatch.events.workflow import due_at, limit_minutes
from dispatch.privacy.vault import new_key
from dispatch.store import Store, keys
from dispatch.store.positions import PositionStore
from dispatch.store.server import EmbeddedRedis
from dispatch.store.tasks import EventMove, NewTask, TaskStore, TaskTakenError
from dispatch.tasks.lifecycle import TaskStatus
from dispatch.tasks.recommend import Place, rank
from dispatch.tasks.service import ASSIGN_FROM, DEFAULT_ACCEPT_MINUTES
from dispatch.workers.models import DutyStatus, Worker
from dispatch.workers.roster import LOCAL_TZ, demo_roster, duty_at
from geo.locate import OUTSIDE
from geo.model import Tier

TARGET_P99_MS = 5.0
TARGET_ASSIGNMENTS_PER_S = 5000
#: Every worker's phone reports every 10 s; the mover sends a tenth of a second's share per tick.
REPORT_EVERY_S = 10.0
TICK_S = 0.1
MOVER_BATCH = 25
#: How far a worker strays from home, and how far one report moves them (metres).
ROAM_M, STEP_M = 800.0, 60.0
M_PER_DEG_LAT = 111_320.0
BENCH = Actor(name="bench", role=Role.OPERATOR)
#: Distinct event places the recommendation phase cycles through.
PLACES = 5000
EVENT_FIELDS = ("status", "category", "severity", "street", "micro", "general", "total")


def run(settings, *, seconds: float, naive_samples: int, assignments: int, threads: int,
        contenders: int, contended_events: int, fsync: str = "always", seed: int = 11) -> dict:
    """Recommendations for ``seconds`` under moving positions, then assignments; every
    baseline in this run."""
    grids = grids_for(settings)
    roster = demo_roster(settings.cache_dir, grids, seed=settings.demo_seed)
    rng = np.random.default_rng(seed)
    with bench_runtime(settings, grids, fsync=fsync) as runtime:
        started = time.perf_counter()
        runtime.workers.replace_all(roster, actor="bench", role="system")
        positions = PositionStore.of(runtime.store)
        mover = Mover(positions, roster, rng=np.random.default_rng(seed + 1))
        mover.place_all()
        loaded_s = time.perf_counter() - started
        places = _places(runtime, PLACES, rng)
        # The phones report from another process, as they do through the web processes:
        # the recommender's process spends its time on recommendations only.
        with moving_elsewhere(runtime.redis_url, roster, seed=seed + 1) as moved:
            real = _recommend(runtime, places, seconds=seconds)
            naive = _naive(runtime, places[:naive_samples])
        events = _new_events(runtime, assignments * 2 + contended_events, rng)
        ids = [w.id for w in roster]
        half = assignments // 2
        scripted = _assign_all(runtime.task_store, events[:half], ids,
                               threads=threads, rng=random.Random(seed))
        batched = _assign_batches(runtime.task_store, events[half:assignments], ids,
                                  threads=threads, rng=random.Random(seed))
        plain = _plain_writes(runtime.store, events[assignments:assignments * 2], ids,
                              threads=threads, rng=random.Random(seed))
        contended = _contended(runtime.task_store, events[assignments * 2:], ids,
                               contenders=contenders)
    return {
        "benchmark": "assign",
        "workers": len(roster),
        "roster_and_positions_loaded_s": round(loaded_s, 2),
        "appendfsync": fsync,
        "recommend": real | {"target_p99_ms": TARGET_P99_MS,
                             "within_target": real["p99_ms"] <= TARGET_P99_MS},
        "naive_full_scan": naive,
        "p99_ratio_naive_to_recommend": round(naive["p99_ms"] / max(real["p99_ms"], 1e-9), 1),
        "position_updates": moved,
        "assign": scripted,
        "assign_pipelined": batched | {
            "target_per_s": TARGET_ASSIGNMENTS_PER_S,
            "within_target": batched["per_s"] >= TARGET_ASSIGNMENTS_PER_S},
        "naive_plain_writes": plain,
        "ratio_assign_to_plain": round(scripted["per_s"] / max(plain["per_s"], 1), 3),
        "contended": contended,
        "cpu_count": os.cpu_count(),
    }


@contextmanager
def bench_runtime(settings, grids, *, fsync: str) -> Iterator[Runtime]:
    """The server's runtime on a throwaway embedded Redis (and a throwaway data key)."""
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        server = EmbeddedRedis(Path(tmp) / "redis", appendfsync=fsync).start()
        try:
            key = settings.data_key or SecretStr(new_key())
            runtime = Runtime(settings=settings.model_copy(update={"redis_url": server.url,
                                                                   "data_key": key}),
                              store=Store.from_url(server.url), grids=grids,
                              redis_url=server.url)
            try:
                yield runtime
            finally:
                runtime.close()
        finally:
            server.stop()


class Mover:
    """Workers' phones: every worker reports every 10 s, wandering near home."""

    def __init__(self, positions: PositionStore, roster: Sequence[Worker], *,
                 rng: np.random.Generator) -> None:
        self._positions = positions
        self._ids = [w.id for w in roster]
        self._home = np.array([(w.home_lon, w.home_lat) for w in roster])
        self._lon_deg = 1 / (M_PER_DEG_LAT * np.cos(np.radians(self._home[:, 1])))
        self._offset = rng.normal(0, ROAM_M / 3, (len(roster), 2))
        self._rng = rng
        self._stop = threading.Event()
        self.sent = self.stored = self.ticks = self.late_ticks = 0
        self.seconds = 0.0

    @property
    def size(self) -> int:
        return len(self._ids)

    def reports(self, rows: np.ndarray) -> list[tuple[str, float, float, int, float]]:
        """New positions of ``rows``: one step each, pulled back towards home."""
        step = self._rng.normal(0, STEP_M, (len(rows), 2))
        self._offset[rows] = np.clip(self._offset[rows] * 0.98 + step, -ROAM_M, ROAM_M)
        lon = self._home[rows, 0] + self._offset[rows, 0] * self._lon_deg[rows]
        lat = self._home[rows, 1] + self._offset[rows, 1] / M_PER_DEG_LAT
        acc = self._rng.uniform(5, 50, len(rows))
        at = int(time.time() * 1000)
        return [(self._ids[r], float(x), float(y), at, float(a))
                for r, x, y, a in zip(rows, lon, lat, acc, strict=True)]

    def place_all(self) -> None:
        rows = np.arange(len(self._ids))
        for start in range(0, len(rows), 1000):
            self._positions.put_many(self.reports(rows[start:start + 1000]))

    @contextmanager
    def running(self) -> Iterator[None]:
        thread = threading.Thread(target=self._run, name="bench-mover", daemon=True)
        thread.start()
        try:
            yield
        finally:
            self._stop.set()
            thread.join(10)

    def run_until(self, stop) -> None:
        """Report until ``stop`` (an Event of any kind) is set."""
        self._stop = stop
        self._run()

    def _run(self) -> None:
        n = len(self._ids)
        per_tick = n * TICK_S / REPORT_EVERY_S
        order = np.random.default_rng(0).permutation(n)
        started = time.monotonic()
        due = 0.0
        cursor = 0
        while not self._stop.is_set():
            due += per_tick
            take = int(due) - self.sent
            rows = order[(cursor + np.arange(take)) % n]
            cursor += take
            for start in range(0, take, MOVER_BATCH):
                self.stored += sum(self._positions.put_many(
                    self.reports(rows[start:start + MOVER_BATCH])))
            self.sent += take
            self.ticks += 1
            wait = started + self.ticks * TICK_S - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
            else:
                self.late_ticks += 1
        self.seconds = time.monotonic() - started

    def figures(self) -> dict:
        target = len(self._ids) / REPORT_EVERY_S
        return {"target_per_s": round(target, 1),
                "achieved_per_s": round(self.sent / max(self.seconds, 1e-9), 1),
                "reports": self.sent, "stored": self.stored, "seconds": round(self.seconds, 2),
                "batch": MOVER_BATCH, "tick_ms": int(TICK_S * 1000),
                "late_ticks": self.late_ticks}


def _places(runtime: Runtime, n: int, rng: np.random.Generator) -> list[Place]:
    """Events at uniformly random points inside the district, with random categories."""
    locator = runtime.locator
    minx, miny, maxx, maxy = runtime.grids.tier(Tier.MICRO).total_bounds
    codes = sorted(categories())
    out: list[Place] = []
    while len(out) < n:
        lon = rng.uniform(minx, maxx, 4 * n)
        lat = rng.uniform(miny, maxy, 4 * n)
        for x, y, i in zip(lon, lat, locator.indices(lon, lat), strict=True):
            if i != OUTSIDE and len(out) < n:
                chain = locator.chain_of(int(i))
                out.append(Place(micro=chain["micro"], general=chain["general"],
                                 total=chain["total"], lon=float(x), lat=float(y),
                                 category=codes[int(rng.integers(len(codes)))]))
    return out


def _recommend(runtime: Runtime, places: Sequence[Place], *, seconds: float) -> dict:
    """One recommendation after another for ``seconds`` (at least 20), each timed."""
    recommender = runtime.recommender
    for place in places[-20:]:  # warm: scripts loaded, connections open
        recommender.for_place(place)
    times, found = [], []
    until = time.perf_counter() + seconds
    for place in itertools.cycle(places):
        started = time.perf_counter()
        best = recommender.for_place(place)
        times.append(time.perf_counter() - started)
        found.append(len(best))
        if started > until and len(times) >= 20:
            break
    return _latency(times) | {"samples": len(times),
                              "candidates_returned_mean": round(float(np.mean(found)), 2)}


def _naive(runtime: Runtime, places: Sequence[Place]) -> dict:
    """Everything read (the roster, every position through ``PositionStore.get_many``) and
    everything ranked, per event."""
    recommender = runtime.recommender
    weights = recommender.weights
    book = runtime.positions
    times, agree, ranked = [], 0, 0
    for place in places:
        started = time.perf_counter()
        workers = runtime.workers.all()
        ranked = len(workers)
        ids = [w.id for w in workers]
        seen = book.of(ids)
        now = datetime.fromtimestamp(time.time(), LOCAL_TZ)
        duty = {w.id: duty_at(w, now) for w in workers}
        on_duty = Counter(w.grid for w in workers if duty[w.id] is DutyStatus.ON_DUTY)
        best = rank(place, workers, weights=weights, seen=seen,
                    open_tasks=runtime.task_store.open_counts(ids), on_duty_in_grid=on_duty,
                    duty=lambda w, of=duty: of[w.id])
        times.append(time.perf_counter() - started)
        ours = recommender.for_place(place, limit=1)
        agree += bool(best and ours and best[0].worker.id == ours[0].worker.id)
    return _latency(times) | {"samples": len(places), "workers_ranked": ranked,
                              "same_first_choice_as_recommend": agree}


def _new_events(runtime: Runtime, n: int, rng: np.random.Generator) -> list[dict[str, str]]:
    """``n`` reported events at random points, read back as the assignment needs them."""
    places = _places(runtime, n, rng)
    ids: list[str] = []
    for start in range(0, n, MAX_BATCH):
        reports = [Report(data=parse({"category": p.category, "lon": p.lon, "lat": p.lat,
                                      "description": "调度压力测试", "address": "测试地址"}),
                          source=Source.API) for p in places[start:start + MAX_BATCH]]
        ids += [c.id for c in runtime.intake.submit_many(reports, actor=BENCH)]
    return runtime.store.events.fields_many(ids, ("id", *EVENT_FIELDS))


def new_task(h: dict[str, str], worker_id: str, *, now: float) -> NewTask:
    """The store write ``TaskService.assign`` makes for an event in hash form ``h``."""
    current = Status(h["status"])
    severity = Severity(h["severity"])
    steps = (current, *ASSIGN_FROM[current])
    moves = [EventMove(a.value, b.value, due_at(h["category"], severity, b, entered=now))
             for a, b in itertools.pairwise(steps)]
    accept = (limit_minutes(h["category"], severity, Status.DISPATCHED)
              or DEFAULT_ACCEPT_MINUTES)
    return NewTask(event_id=h["id"], worker_id=worker_id, status=TaskStatus.ASSIGNED.value,
                   moves=moves, street=h["street"], now=now, actor=BENCH.name,
                   role=BENCH.role.value, accept_due=now + accept * 60,
                   fields={"note": "", "micro": h["micro"], "general": h["general"],
                           "total": h["total"], "accept_minutes": str(accept),
                           "claimed": ""})


def _assign_all(tasks: TaskStore, events: Sequence[dict[str, str]], worker_ids: Sequence[str],
                *, threads: int, rng: random.Random) -> dict:
    now = time.time()
    work = [new_task(h, rng.choice(worker_ids), now=now) for h in events]
    failures: Counter[str] = Counter()

    def one(task: NewTask) -> None:
        try:
            tasks.assign(task)
        except Exception as exc:  # counted, never fatal: the figure says how many failed
            failures[type(exc).__name__] += 1

    seconds = _threaded(work, one, threads=threads)
    done = len(work) - sum(failures.values())
    return {"assignments": len(work), "succeeded": done, "failed": dict(failures),
            "threads": threads, "seconds": round(seconds, 3),
            "per_s": round(done / seconds)}


def _assign_batches(tasks: TaskStore, events: Sequence[dict[str, str]],
                    worker_ids: Sequence[str], *, threads: int, rng: random.Random,
                    batch: int = 50) -> dict:
    """The same atomic script, ``batch`` calls sent together (``TaskStore.assign_many``):
    each assignment still checks and writes alone, only the round trips are shared."""
    now = time.time()
    work = [new_task(h, rng.choice(worker_ids), now=now) for h in events]
    chunks = [work[i:i + batch] for i in range(0, len(work), batch)]
    failures: Counter[str] = Counter()

    def one(chunk: list[NewTask]) -> None:
        for result in tasks.assign_many(chunk):
            if isinstance(result, Exception):
                failures[type(result).__name__] += 1

    seconds = _threaded(chunks, one, threads=threads)
    done = len(work) - sum(failures.values())
    return {"assignments": len(work), "succeeded": done, "failed": dict(failures),
            "threads": threads, "batch": batch, "seconds": round(seconds, 3),
            "per_s": round(done / seconds)}


@contextmanager
def moving_elsewhere(redis_url: str, roster: Sequence[Worker], *, seed: int
                     ) -> Iterator[dict]:
    """The Mover in a process of its own; the dict is filled with its figures at the end."""
    ctx = multiprocessing.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_mover_process, args=(redis_url, list(roster), seed, stop, out),
                       daemon=True)
    proc.start()
    figures: dict = {}
    try:
        yield figures
    finally:
        stop.set()
        figures.update(out.get(timeout=60))
        proc.join(10)


def _mover_process(redis_url: str, roster: list[Worker], seed: int, stop, out) -> None:
    store = Store.from_url(redis_url)
    mover = Mover(PositionStore.of(store), roster, rng=np.random.default_rng(seed))
    mover.run_until(stop)
    out.put(mover.figures())
    store.close()


def _plain_writes(store: Store, events: Sequence[dict[str, str]], worker_ids: Sequence[str],
                  *, threads: int, rng: random.Random) -> dict:
    """The same task record, event fields and indices, in one plain pipeline each: no guard,
    no status check, no stream entry, no atomicity."""
    client = store._r
    now = time.time()
    now_ms = int(now * 1000)
    work = [(h, rng.choice(worker_ids)) for h in events]

    def one(item: tuple[dict[str, str], str]) -> None:
        h, worker = item
        tid = f"{h['id']}.1"
        with client.pipeline(transaction=False) as pipe:
            pipe.hset(f"bench:plain:task:{tid}", mapping={
                "id": tid, "event": h["id"], "worker": worker, "status": "assigned",
                "rev": "1", "street": h["street"], "created_at": f"{now:.3f}",
                "updated_at": f"{now:.3f}", "accept_due": str(now_ms + 1_800_000),
                "escalation": "0", "assigned_by": BENCH.name, "micro": h["micro"],
                "general": h["general"], "total": h["total"]})
            pipe.hset(keys.event(h["id"]), mapping={"status": "dispatched",
                                                    "assignee": worker, "task": tid})
            pipe.set(f"bench:plain:event-task:{h['id']}", tid)
            pipe.zadd(f"bench:plain:worker-tasks:{worker}", {tid: now_ms})
            pipe.sadd(f"bench:plain:worker-open:{worker}", tid)
            pipe.zadd("bench:plain:tasks-open", {tid: now_ms})
            pipe.execute()

    seconds = _threaded(work, one, threads=threads)
    return {"assignments": len(work), "threads": threads, "seconds": round(seconds, 3),
            "per_s": round(len(work) / seconds),
            "writes": "pipelined HSET×2, SET, ZADD×2, SADD per assignment, not atomic"}


def _contended(tasks: TaskStore, events: Sequence[dict[str, str]], worker_ids: Sequence[str],
               *, contenders: int) -> dict:
    """``contenders`` threads released together at each event, each for another worker."""
    barrier = threading.Barrier(contenders)
    outcome: list[list[str]] = [[] for _ in events]
    now = time.time()

    def contend(k: int) -> None:
        for i, h in enumerate(events):
            task = new_task(h, worker_ids[k], now=now)
            barrier.wait()
            try:
                tasks.assign(task)
                outcome[i].append("won")
            except TaskTakenError:
                outcome[i].append("taken")
            except Exception as exc:  # any other answer is a finding, not a crash
                outcome[i].append(type(exc).__name__)

    pool = [threading.Thread(target=contend, args=(k,)) for k in range(contenders)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    winners = [o.count("won") for o in outcome]
    open_tasks = [tasks.open_task_of(h["id"]) for h in events]
    return {"events": len(events), "contenders": contenders,
            "winners_per_event": {str(k): v for k, v in sorted(Counter(winners).items())},
            "exactly_one_winner_every_time": all(w == 1 for w in winners),
            "refused_taken": sum(o.count("taken") for o in outcome),
            "other_answers": sum(len(o) - o.count("won") - o.count("taken") for o in outcome),
            "one_open_task_stored_per_event": all(t is not None for t in open_tasks)}


def _threaded(work: Sequence, one: Callable, *, threads: int) -> float:
    """Seconds for ``threads`` threads to take every item of ``work`` once."""
    it = iter(work)
    lock = threading.Lock()

    def drain() -> None:
        while True:
            with lock:
                item = next(it, None)
            if item is None:
                return
            one(item)

    pool = [threading.Thread(target=drain) for _ in range(max(1, threads))]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - started


def _latency(seconds: Sequence[float]) -> dict:
    ms = np.asarray(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3)}
