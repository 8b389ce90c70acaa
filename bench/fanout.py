"""bench fanout: latency from accepted to received at N real Socket.IO clients.

Events are posted through the batch endpoint at a steady rate; each client records when the
delta carrying each ``event.created`` arrives. Figures: p50/p99 latency over every
(client, event) pair, and events missing or received twice (both must be 0).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections import Counter

import requests
import socketio

from bench.harness import running_server, sample_reports
from bench.light_client import listen as light_listen
from dispatch.events.models import ChangeKind
from geo.catalog import demo_grid_set


class _Listener:
    def __init__(self, base: str, token: str) -> None:
        self.received: dict[str, float] = {}
        self.seen: Counter = Counter()
        self.client = socketio.Client(reconnection=False)
        self.client.on("delta", self._delta, namespace="/live")
        self.client.connect(base, namespaces=["/live"], auth={"token": token},
                            transports=["websocket"], wait_timeout=30)

    def _delta(self, payload: dict) -> None:
        now = time.time()
        for change in payload["changes"]:
            if change.get("kind") == ChangeKind.CREATED:
                self.seen[change["seq"]] += 1
                self.received.setdefault(change["id"], now)


def _listen(base: str, token: str, n: int, ready, done, out) -> None:
    """One client process: ``n`` Socket.IO clients; reports what each received."""
    listeners = [_Listener(base, token) for _ in range(n)]
    ready.put(n)
    done.wait()
    for listener in listeners:
        listener.client.disconnect()
    out.put([(dict(lis.received), dict(lis.seen)) for lis in listeners])


def run(settings, *, clients: int, rate: int, seconds: float, procs: int = 2,
        client: str = "light") -> dict:
    """Clients live in ``procs`` separate processes, so the receiving side is not one GIL.

    ``client="light"`` uses the lean listener (bench.light_client); ``"socketio"`` uses
    python-socketio's full client, which is heavier than the server it measures here.
    """
    grids = demo_grid_set(settings.cache_dir)
    total = int(rate * seconds)
    reports = sample_reports(grids, total, seed=5)
    ctx = mp.get_context("spawn")
    ready, out, done = ctx.Queue(), ctx.Queue(), ctx.Event()
    with running_server(settings, fsync="always") as (base, _redis, token, _pid):
        shares = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
        target = light_listen if client == "light" else _listen
        workers = [ctx.Process(target=target, args=(base, token, n, ready, done, out))
                   for n in shares if n]
        for w in workers:
            w.start()
        for _ in workers:
            ready.get(timeout=120)
        time.sleep(1.0)
        accepted = _post_steadily(base, token, reports, rate)
        time.sleep(3.0)
        done.set()
        results = [r for _ in workers for r in out.get(timeout=120)]
        for w in workers:
            w.join(30)
    return _figures(results, accepted, clients=clients, rate=rate, seconds=seconds) | {
        "client_processes": len(workers), "client": client}


def _post_steadily(base: str, token: str, reports: list[dict], rate: int) -> dict[str, float]:
    """Batches every 50 ms to hold ``rate`` events/s; returns id → time the 2xx arrived."""
    accepted: dict[str, float] = {}
    per_tick = max(1, rate // 20)
    headers = {"Authorization": f"Bearer {token}"}
    session = requests.Session()
    started = time.time()
    for n, i in enumerate(range(0, len(reports), per_tick)):
        wait = started + n * 0.05 - time.time()
        if wait > 0:
            time.sleep(wait)
        r = session.post(f"{base}/api/v1/events/batch", json={"events": reports[i:i + per_tick]},
                         headers=headers, timeout=30)
        now = time.time()
        if r.status_code in (200, 201):
            for e in r.json()["events"]:
                accepted[e["id"]] = now
    return accepted


def _figures(results, accepted: dict[str, float], *, clients, rate, seconds) -> dict:
    latencies, missing, duplicated = [], 0, 0
    for received, seen in results:
        for event_id, t_acc in accepted.items():
            t_rx = received.get(event_id)
            if t_rx is None:
                missing += 1
            else:
                latencies.append(max(t_rx - t_acc, 0.0))
        duplicated += sum(c - 1 for c in seen.values() if c > 1)
    latencies.sort()

    def q(p: float):
        return round(latencies[int(p * (len(latencies) - 1))] * 1000, 1) if latencies else None

    return {
        "benchmark": "fanout",
        "clients": clients,
        "target_rate_per_s": rate,
        "seconds": seconds,
        "events_accepted": len(accepted),
        "deliveries_expected": len(accepted) * clients,
        "p50_ms": q(0.5),
        "p90_ms": q(0.9),
        "p99_ms": q(0.99),
        "max_ms": q(1.0),
        "missing": missing,
        "duplicated": duplicated,
        "coalescing_tick_ms": 250,
        "cpu_count": os.cpu_count(),
    }
