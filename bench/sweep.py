"""bench sweep: a simulated household sweep through the HTTP API, and its way to the screen.

Laid out as a site runs it: sweepers' reports go to ``grid-dispatch http`` (the API pool),
the coordinator's screen to ``grid-dispatch serve`` (the live feed), both on one fresh Redis
holding the demo roster and resident base (by default the whole district: 5,965 micro-grids,
642,571 households). A coordinator's token plans and starts the sweep at ``speed``; the
sweepers' plan is the simulation's (``dispatch.drills.simulate.sweep_plan``), building by
building, and a gateway's integration token posts each building as one batch naming its
sweeper, on time against the drill's clock.

- Throughput: households accepted per second while the plan is played, and the HTTP status
  of every batch; lost = households the server said it took but the drill does not hold.
- Screen latency: the coordinator's Socket.IO client (its own process) on ``/drills``; each
  batch's answer names its stream entry (``seq``), each ``drill`` message the last entry it
  covers, so a batch reached the screen with the first message at or past its entry.
- Memory: the resident size of every server process, and Redis's ``used_memory``.
- Baseline: the same batches written straight into Redis with plain pipelines (no HTTP, no
  checks, no script), in the same run.
"""

from __future__ import annotations

import bisect
import multiprocessing as mp
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import orjson
import requests

from bench import http_load
from bench.harness import running_server
from bench.positions import _address, live_server
from dashboard.runtime import grids_for
from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.drills.planning import scope_prefix
from dispatch.drills.simulate import SweepTuning, sweep_plan
from dispatch.households.demo import demo_table
from dispatch.households.table import HouseholdTable
from dispatch.privacy.vault import Vault
from dispatch.store import Store, keys
from dispatch.store.households import HouseholdStore
from dispatch.store.workers import WorkerStore
from dispatch.workers.models import WorkerKind
from dispatch.workers.roster import demo_roster

TARGET_P99_MS = 1000.0
TICK_S = 0.1
SETTLE_S = 3.0
BASELINE_CHUNK = 200  # batches per pipeline in the baseline


def run(settings, *, scope: str = "510117", speed: float = 10.0, connections: int = 8,
        workers: int = 2, threads: int = 8, seed: int = 11, whole_base: bool = True,
        flood: int = 100_000) -> dict:
    """``whole_base``: load the district's resident base even for a smaller scope (as a site
    holds it); off, only the scope's households are loaded (a quick check)."""
    from dispatch.privacy.vault import new_key

    os.environ.setdefault("GRID_DISPATCH_DATA_KEY", new_key())  # the servers' and the load's
    grids = grids_for(settings)
    roster = demo_roster(settings.cache_dir, grids, seed=settings.demo_seed)
    table = demo_table(settings.cache_dir, grids, seed=settings.demo_seed)
    if not whole_base:
        prefix = scope_prefix(scope)
        table = HouseholdTable.of(table.household(i) for i, hh in enumerate(table.ids)
                                  if hh.startswith(prefix))
    ctx = mp.get_context("spawn")
    with running_server(settings, fsync="always", server="http", workers=workers,
                        threads=threads) as (api, redis_server, _token, pid):
        store = Store.from_url(redis_server.url)
        try:
            load_s = _load(store, roster, table)
            auth = Auth(store.auth)
            coordinator = auth.create_token(name="bench-coordinator", role=Role.COORDINATOR)
            gateway = auth.create_token(name="bench-gateway", role=Role.INTEGRATION)
            plan = _plan(roster, HouseholdStore.of(store), scope=scope, seed=seed)
            with live_server(settings, redis_server.url) as live:
                drill_id = _start(live, coordinator, scope=scope, speed=speed)
                ready, done, out = ctx.Queue(), ctx.Event(), ctx.Queue()
                screen = ctx.Process(target=_screen, args=(live, coordinator, drill_id, ready,
                                                           done, out))
                screen.start()
                try:
                    ready.get(timeout=120)
                    sent, paced = _paced(_address(api), gateway, drill_id, plan, speed=speed,
                                         connections=connections)
                    time.sleep(SETTLE_S)
                    memory = _memory(pid, store)
                finally:
                    done.set()
                received = out.get(timeout=120)
                screen.join(30)
                flooded = _flood(live, _address(api), coordinator, gateway, plan, scope=scope,
                                 households=flood, connections=connections)
            held = store._r.hlen(keys.drill_households(drill_id))
            baseline = _baseline(store, plan)
        finally:
            store.close()
    accepted = sum(n for _, _, n in sent)
    return {"benchmark": "sweep", "scope": scope, "speed": speed,
            "micro_grids": len({a.data[0][0][:17] for a in plan}),
            "households_planned": sum(len(a.data) for a in plan),
            "households_in_base": len(table), "base_load_s": round(load_s, 1),
            "api_server": f"grid-dispatch http --workers {workers} --threads {threads}",
            "live_server": "grid-dispatch serve",
            "http_api": paced | {"households_accepted": accepted,
                                 "households_held_by_the_drill": int(held),
                                 "households_lost": accepted - int(held)},
            "screen": _latency(sent, received) | {"target_p99_ms": TARGET_P99_MS},
            "http_api_unpaced": flooded,
            "memory": memory, "raw_pipelined_writes": baseline,
            "cpu_count": os.cpu_count()}


def _load(store: Store, roster, table) -> float:
    """The roster and the resident base, as the demo loads them (sealed with the site key)."""
    started = time.perf_counter()
    WorkerStore.of(store).replace_all(roster, actor="bench", role="system")
    HouseholdStore.of(store).replace_all(table, vault=Vault([os.environ["GRID_DISPATCH_DATA_KEY"]]))
    return time.perf_counter() - started


def _plan(roster, households: HouseholdStore, *, scope: str, seed: int) -> list:
    """The sweepers' plan: each building a batch, on the drill's clock (drill seconds)."""
    prefix = scope_prefix(scope)
    micros = sorted(m for m in households.counts() if m.startswith(prefix))
    crews: dict[str, list[str]] = defaultdict(list)
    for w in roster:
        if w.kind is WorkerKind.PROFESSIONAL and w.grid.startswith(prefix):
            crews[w.grid].append(w.id)
    buildings: dict[str, dict[str, list[str]]] = {}
    for micro in micros:
        grouped: dict[str, list[str]] = defaultdict(list)
        for hh in sorted(households.ids(micro)):
            grouped[hh[:20]].append(hh)
        buildings[micro] = dict(grouped)
    everyone = [w.id for w in roster]
    sweepers = {m: crews.get(m) or [everyone[i % len(everyone)]] for i, m in enumerate(micros)}
    return sweep_plan(buildings, sweepers, seed=seed, tuning=SweepTuning(unreached=0.0))


def _start(base: str, token: str, *, scope: str, speed: float) -> str:
    """Plan and start the sweep as a coordinator does (the API, not the store)."""
    headers = {"Authorization": f"Bearer {token}"}
    planned = requests.post(f"{base}/api/v1/drills", json={
        "kind": "sweep", "scope": scope, "scenario": "epidemic", "speed": speed,
        "title": "bench sweep"}, headers=headers, timeout=120)
    planned.raise_for_status()
    drill_id = planned.json()["id"]
    requests.post(f"{base}/api/v1/drills/{drill_id}/actions", json={"action": "start"},
                  headers=headers, timeout=30).raise_for_status()
    return drill_id


def _screen(base: str, token: str, drill_id: str, ready, done, out) -> None:
    """The coordinator's screen, in its own process: when each drill message arrived and
    the last stream entry it covers."""
    import socketio

    got: list[tuple[str, float]] = []
    micros: set[str] = set()

    def drill(payload: dict) -> None:
        if payload.get("seq"):
            got.append((payload["seq"], time.time()))
        micros.update((payload.get("swept") or {}).keys())

    client = socketio.Client(reconnection=False)
    client.on("drill", drill, namespace="/drills")
    client.connect(base, namespaces=["/drills"], auth={"token": token, "drill": drill_id},
                   transports=["websocket"], wait_timeout=30)
    ready.put(True)
    done.wait()
    client.disconnect()
    out.put({"messages": got, "micro_grids_coloured": len(micros)})


def _paced(address, token: str, drill_id: str, plan: list, *, speed: float,
           connections: int) -> tuple[list[tuple[str, float, int]], dict]:
    """Each batch posted when the drill's clock reaches it (wall = drill seconds / speed);
    returns (seq, sent, households) of each accepted batch, and how the pacing went."""
    path = f"/api/v1/drills/{drill_id}/sweep"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    wire = [http_load.encode("POST", path, orjson.dumps({
        "worker": a.who, "reports": [{"household": h, "status": st} for h, st in a.data]}),
        host=address[0], headers=headers) for a in plan]
    due = np.asarray([a.t / speed for a in plan])
    sent: list[tuple[str, float, int]] = []
    statuses: Counter[int] = Counter()
    late, first = 0, 0
    started = time.monotonic()
    while first < len(plan):
        now = time.monotonic() - started
        last = int(np.searchsorted(due, now, side="right"))
        if last > first:
            batch = list(range(first, last))

            def answer(i: int, a: http_load.Answer, batch=batch) -> None:
                statuses[a.status] += 1
                if a.status == 201:
                    body = orjson.loads(a.body)
                    sent.append((body["seq"], time.time() - a.seconds, body["reported"]))

            http_load.run(address, [wire[i] for i in batch], concurrency=connections,
                          on_answer=answer)
            first = last
            if time.monotonic() - started > now + TICK_S:
                late += 1
        else:
            time.sleep(min(TICK_S, max(0.0, due[first] - now)))
    elapsed = time.monotonic() - started
    households = sum(n for _, _, n in sent)
    return sent, {"batches": len(plan), "seconds": round(elapsed, 1),
                  "households_per_s": round(households / elapsed),
                  "planned_households_per_s": round(sum(len(a.data) for a in plan) /
                                                    max(float(due[-1]), 1e-9)),
                  "late_ticks": late,
                  "by_status": {str(k): v for k, v in sorted(statuses.items())}}


def _key(seq: str) -> tuple[int, int]:
    ms, _, n = seq.partition("-")
    return int(ms), int(n or 0)


def _latency(sent: list[tuple[str, float, int]], received: dict) -> dict:
    """Each accepted batch against the first screen message covering its stream entry."""
    messages = sorted((_key(seq), at) for seq, at in received["messages"])
    keys_ = [k for k, _ in messages]
    # the earliest arrival at or after each message (messages may come out of order)
    arrivals = np.minimum.accumulate(np.asarray([at for _, at in messages])[::-1])[::-1] \
        if messages else np.asarray([])
    latencies, missing = [], 0
    for seq, at, _n in sent:
        i = _first_at_or_after(keys_, _key(seq))
        if i is None:
            missing += 1
        else:
            latencies.append(max(float(arrivals[i]) - at, 0.0))
    ms = np.asarray(latencies) * 1000

    def q(p: float) -> float | None:
        return round(float(np.percentile(ms, p)), 1) if len(ms) else None

    return {"batches_accepted": len(sent), "shown": len(latencies), "missing": missing,
            "p50_ms": q(50), "p90_ms": q(90), "p99_ms": q(99), "max_ms": q(100),
            "drill_messages": len(messages),
            "micro_grids_coloured": received["micro_grids_coloured"],
            "within_target": bool(len(ms)) and q(99) is not None and q(99) <= TARGET_P99_MS}


def _first_at_or_after(keys_: list[tuple[int, int]], key: tuple[int, int]) -> int | None:
    i = bisect.bisect_left(keys_, key)
    return i if i < len(keys_) else None


def _memory(server_pid: int, store: Store) -> dict:
    """Resident memory of the server's processes (its session) and Redis's own figure."""
    rss = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != server_pid:
                continue
            status = (entry / "status").read_text()
        except (OSError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) * 1024
    info = store._r.info("memory")
    return {"api_server_rss_mb": round(rss / 2**20, 1),
            "redis_used_memory_mb": round(int(info["used_memory"]) / 2**20, 1)}


def _baseline(store: Store, plan: list) -> dict:
    """The same batches as plain pipelined writes: a hash per drill, a counter per micro-grid
    and a stream entry per batch, no checks and no script (what the API path is measured
    against)."""
    r = store._r
    scratch, counts, log = "bench:raw:households", "bench:raw:swept", "bench:raw:log"
    r.delete(scratch, counts, log)
    started = time.perf_counter()
    for i in range(0, len(plan), BASELINE_CHUNK):
        with r.pipeline(transaction=False) as pipe:
            for a in plan[i:i + BASELINE_CHUNK]:
                pipe.hset(scratch, mapping=dict(a.data))
                pipe.hincrby(counts, a.data[0][0][:17], len(a.data))
                pipe.xadd(log, {"worker": a.who, "items": orjson.dumps(a.data)})
            pipe.execute()
    seconds = time.perf_counter() - started
    households = int(r.hlen(scratch))
    r.delete(scratch, counts, log)
    return {"households": households, "seconds": round(seconds, 2),
            "households_per_s": round(households / seconds)}


def _flood(live: str, address, coordinator: str, gateway: str, plan: list, *, scope: str,
           households: int, connections: int) -> dict:
    """A second sweep of the same scope, its first ``households`` posted as fast as the
    connections go (no pacing): what the API takes at most."""
    if households <= 0:
        return {"households": 0}
    drill_id = _start(live, coordinator, scope=scope, speed=1)
    batches, n = [], 0
    for a in plan:
        if n >= households:
            break
        batches.append(a)
        n += len(a.data)
    path = f"/api/v1/drills/{drill_id}/sweep"
    headers = {"Authorization": f"Bearer {gateway}", "Content-Type": "application/json"}
    wire = [http_load.encode("POST", path, orjson.dumps({
        "worker": a.who, "reports": [{"household": h, "status": st} for h, st in a.data]}),
        host=address[0], headers=headers) for a in batches]
    statuses: Counter[int] = Counter()
    took: list[float] = []

    def answer(_i: int, a: http_load.Answer) -> None:
        statuses[a.status] += 1
        if a.status == 201:
            took.append(a.seconds)

    seconds = http_load.run(address, wire, concurrency=connections, on_answer=answer)
    ms = np.asarray(took or [0.0]) * 1000
    return {"batches": len(wire), "households": n, "seconds": round(seconds, 2),
            "households_per_s": round(n / seconds) if seconds else None,
            "batch_p50_ms": round(float(np.percentile(ms, 50)), 1),
            "batch_p99_ms": round(float(np.percentile(ms, 99)), 1),
            "by_status": {str(k): v for k, v in sorted(statuses.items())}}
