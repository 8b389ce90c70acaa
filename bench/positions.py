"""bench positions: workers' position reports through the HTTP API, and their way to the map.

Laid out as a site runs it (see the README's "Several processes"): reports go to
``grid-dispatch http`` (the API pool, under granian), operators' screens to
``grid-dispatch serve`` (the live feed), both on one fresh Redis holding the demo roster
(7,461 workers). A gateway's integration token posts ``POST /api/v1/workers/me/position``
naming the worker, over keep-alive connections:

- Map latency: an operator's Socket.IO client (its own process) listens on ``/live`` while
  reports are posted at a steady rate (default every worker every 10 s, 746/s); each report's
  send time is kept by (worker, lon, lat), and its receive time is when a ``positions``
  message brings that worker's new coordinates. Figures: p50/p99, and reports never shown.
- Throughput: ``reports`` reports (by default every worker once), as fast as
  ``connections`` connections go; accepted reports/s. Beside it, the same number of reports
  written straight through ``PositionStore.put_many`` (no HTTP, no checks), in the same run.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import orjson
import requests

from bench import http_load
from bench.assign import Mover
from bench.harness import running_server, stop_server
from dashboard.runtime import grids_for
from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.privacy.vault import new_key
from dispatch.store import Store
from dispatch.store.positions import PositionStore
from dispatch.store.server import free_port
from dispatch.store.workers import WorkerStore
from dispatch.workers.roster import demo_roster

PATH = "/api/v1/workers/me/position"
TARGET_P99_MS = 1000.0
TICK_S = 0.1
#: Coordinates come back through Redis's GEO set, exact to about half a metre (1e-5° ≈ 1 m).
MATCH_DEG = 1e-5
DIRECT_BATCH = 100
#: After the last report, how long the screen keeps listening.
SETTLE_S = 3.0
#: Long enough for the feed's first look (it looks every 0.5 s) and its roster read.
WARM_S = 3.0


def run(settings, *, seconds: float, rate: int, reports: int, connections: int,
        workers: int = 2, threads: int = 8, seed: int = 13) -> dict:
    """Map latency at ``rate`` reports/s for ``seconds``, then throughput, then the baseline."""
    grids = grids_for(settings)
    roster = demo_roster(settings.cache_dir, grids, seed=settings.demo_seed)
    ctx = mp.get_context("spawn")
    with running_server(settings, fsync="always", server="http", workers=workers,
                        threads=threads) as (api, redis_server, token, _pid):
        store = Store.from_url(redis_server.url)
        try:
            WorkerStore.of(store).replace_all(roster, actor="bench", role="system")
            gateway = Auth(store.auth).create_token(name="bench-gateway",
                                                    role=Role.INTEGRATION)
            positions = PositionStore.of(store)
            phones = Mover(positions, roster, rng=np.random.default_rng(seed))
            address = _address(api)
            headers = {"Authorization": f"Bearer {gateway}", "Content-Type": "application/json"}
            with live_server(settings, redis_server.url) as live:
                ready, done, out = ctx.Queue(), ctx.Event(), ctx.Queue()
                screen = ctx.Process(target=_screen, args=(live, token, ready, done, out))
                screen.start()
                try:
                    ready.get(timeout=120)
                    _warm(address, headers, phones)
                    sent, paced = _paced(address, headers, phones, rate=rate, seconds=seconds,
                                         connections=connections)
                    time.sleep(SETTLE_S)
                finally:
                    done.set()
                received = out.get(timeout=120)
                screen.join(30)
            marker = _marker(sent, received) | paced
            http = _flood(address, headers, phones, reports=reports, connections=connections)
            direct = _direct(positions, phones, reports=http["reports"])
        finally:
            store.close()
    return {"benchmark": "positions",
            "workers": len(roster),
            "api_server": f"grid-dispatch http --workers {workers} --threads {threads}",
            "live_server": "grid-dispatch serve",
            "map_marker": marker | {"target_p99_ms": TARGET_P99_MS,
                                    "within_target": marker["p99_ms"] is not None
                                    and marker["p99_ms"] <= TARGET_P99_MS},
            "http_api": http,
            "direct_put_many": direct,
            "ratio_http_to_direct": round(http["accepted_per_s"] / max(direct["per_s"], 1), 3),
            "cpu_count": os.cpu_count()}


@contextmanager
def live_server(settings, redis_url: str) -> Iterator[str]:
    """``grid-dispatch serve`` on an existing Redis (the live feed beside an API pool);
    yields its base URL."""
    port = free_port()
    env = os.environ | {"REDIS_URL": redis_url,
                        "GRID_DISPATCH_DATA_KEY": os.environ.get("GRID_DISPATCH_DATA_KEY")
                        or new_key(),
                        "GRID_DISPATCH_CACHE_DIR": str(settings.cache_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "serve", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("grid-dispatch serve did not start")
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.3)
        yield base
    finally:
        stop_server(proc)


def _address(base: str) -> tuple[str, int]:
    host, _, port = base.removeprefix("http://").partition(":")
    return host, int(port)


def _wire(address, headers, reports) -> list[bytes]:
    return [http_load.encode("POST", PATH, orjson.dumps(
        {"worker": wid, "lon": lon, "lat": lat, "accuracy_m": round(acc, 1)}),
        host=address[0], headers=headers) for wid, lon, lat, _at, acc in reports]


def _warm(address, headers, phones: Mover) -> None:
    """A few reports first, untimed: the feed reads the roster once when it first sends
    markers, as a server that has been up a while already has."""
    wire = _wire(address, headers, phones.reports(np.arange(16)))
    http_load.run(address, wire, concurrency=4, on_answer=lambda _i, _a: None)
    time.sleep(WARM_S)


def _paced(address, headers, phones: Mover, *, rate: int, seconds: float,
           connections: int) -> tuple[list[tuple[str, float, float, float]], dict]:
    """Reports at ``rate``/s in 100 ms ticks; returns (worker, lon, lat, sent) of each one
    the server stored, and how the pacing went."""
    n = phones.size
    order = np.random.default_rng(1).permutation(n)
    per_tick = rate * TICK_S
    ticks = max(1, round(seconds / TICK_S))
    sent: list[tuple[str, float, float, float]] = []
    statuses: Counter[int] = Counter()
    late = 0
    started = time.monotonic()
    for tick in range(ticks):
        first, last = int(tick * per_tick), int((tick + 1) * per_tick)
        reports = phones.reports(order[np.arange(first, last) % n])

        def answer(i: int, a: http_load.Answer, reports=reports) -> None:
            statuses[a.status] += 1
            if a.status == 202 and orjson.loads(a.body).get("stored"):
                wid, lon, lat, _at, _acc = reports[i]
                sent.append((wid, lon, lat, time.time() - a.seconds))

        http_load.run(address, _wire(address, headers, reports), concurrency=connections,
                      on_answer=answer)
        wait = started + (tick + 1) * TICK_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            late += 1
    elapsed = time.monotonic() - started
    return sent, {"target_rate_per_s": rate,
                  "achieved_rate_per_s": round(sum(statuses.values()) / elapsed, 1),
                  "seconds": round(elapsed, 2), "late_ticks": late,
                  "by_status": {str(k): v for k, v in sorted(statuses.items())}}


def _screen(base: str, token: str, ready, done, out) -> None:
    """The operator's screen, in its own process: when each worker's coordinates arrived."""
    import socketio

    got: list[tuple[str, float, float, float]] = []
    messages = 0

    def positions(payload: dict) -> None:
        nonlocal messages
        now = time.time()
        messages += 1
        got.extend((str(w[0]), float(w[1]), float(w[2]), now)
                   for w in payload.get("workers", ()))

    client = socketio.Client(reconnection=False)
    client.on("positions", positions, namespace="/live")
    client.connect(base, namespaces=["/live"], auth={"token": token},
                   transports=["websocket"], wait_timeout=30)
    ready.put(True)
    done.wait()
    client.disconnect()
    out.put({"messages": messages, "entries": got})


def _marker(sent: list[tuple[str, float, float, float]], received: dict) -> dict:
    """Each stored report against the first arrival of its worker at its coordinates."""
    arrivals: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for wid, lon, lat, at in received["entries"]:
        arrivals[wid].append((lon, lat, at))
    latencies, missing = [], 0
    for wid, lon, lat, at in sent:
        shown = [t for x, y, t in arrivals.get(wid, ())
                 if abs(x - lon) <= MATCH_DEG and abs(y - lat) <= MATCH_DEG and t >= at - 1]
        if shown:
            latencies.append(max(min(shown) - at, 0.0))
        else:
            missing += 1
    ms = np.asarray(latencies) * 1000

    def q(p: float) -> float | None:
        return round(float(np.percentile(ms, p)), 1) if len(ms) else None

    return {"reports_stored": len(sent), "shown": len(latencies), "missing": missing,
            "p50_ms": q(50), "p90_ms": q(90), "p99_ms": q(99), "max_ms": q(100),
            "positions_messages": received["messages"],
            "entries_received": len(received["entries"])}


def _flood(address, headers, phones: Mover, *, reports: int, connections: int) -> dict:
    """``reports`` reports, worker after worker, as fast as the connections go."""
    rows = np.resize(np.arange(phones.size), reports)
    wire = _wire(address, headers, phones.reports(rows))
    statuses: Counter[int] = Counter()
    took: list[float] = []

    def answer(_i: int, a: http_load.Answer) -> None:
        statuses[a.status] += 1
        if a.status == 202:
            took.append(a.seconds)

    seconds = http_load.run(address, wire, concurrency=connections, on_answer=answer)
    ms = np.asarray(took or [0.0]) * 1000
    return {"reports": len(wire), "accepted": len(took), "connections": connections,
            "seconds": round(seconds, 3), "accepted_per_s": round(len(took) / seconds),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "by_status": {str(k): v for k, v in sorted(statuses.items())}}


def _direct(positions: PositionStore, phones: Mover, *, reports: int) -> dict:
    """The same number of reports straight into the store, ``DIRECT_BATCH`` per call."""
    rows = np.resize(np.arange(phones.size), reports)
    at = int(time.time() * 1000)
    fresh = [(wid, lon, lat, at + i, acc)  # each newer than the last, so each is stored
             for i, (wid, lon, lat, _at, acc) in enumerate(phones.reports(rows))]
    batches = [fresh[i:i + DIRECT_BATCH] for i in range(0, reports, DIRECT_BATCH)]
    stored = 0
    started = time.perf_counter()
    for batch in batches:
        stored += sum(positions.put_many(batch))
    seconds = time.perf_counter() - started
    return {"reports": reports, "stored": stored, "batch": DIRECT_BATCH,
            "seconds": round(seconds, 3), "per_s": round(reports / seconds)}
