"""bench ingest: events/s through the batch and single endpoints, end to end, beside raw XADD.

End to end means HTTP into ``grid-dispatch serve``: JSON parsing, validation, locate, the
atomic store with its indices and change stream, on a fresh Redis with
``appendfsync always``. The baseline is pipelined ``XADD`` of the same records into the
same Redis, measured in the same run. With ``--chaos`` redis-server is killed with SIGKILL
midway and restarted on its AOF; afterwards every event that got a 2xx must be there.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import redis
import requests

from bench.harness import running_server, sample_reports
from geo.catalog import demo_grid_set


def run(settings, *, batch_events: int, single_events: int, threads: int,
        chaos: bool = False) -> dict:
    grids = demo_grid_set(settings.cache_dir)
    reports = sample_reports(grids, batch_events + single_events, seed=3)
    with running_server(settings) as (base, redis_server, token):
        headers = {"Authorization": f"Bearer {token}"}
        acked: list[str] = []
        figures: dict = {}

        def load() -> None:
            figures["batch"] = _batches(base, headers, reports[:batch_events], threads, acked)
            figures["single"] = _singles(base, headers, reports[batch_events:], threads * 4,
                                         acked)

        worker = threading.Thread(target=load)
        worker.start()
        # The restart runs on this (main) thread: the kernel's parent-death signal follows
        # the thread that started redis-server, so it must outlive the run.
        killer = _Chaos(redis_server, after_s=1.0) if chaos else None
        if killer:
            killer.run()
        worker.join()
        batch, single = figures["batch"], figures["single"]
        if killer and killer.error:
            raise RuntimeError(f"redis-server did not come back: {killer.error}")
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        present = _present(client, acked)
        raw = _raw_xadd(client, reports[:batch_events])
        client.close()
    return {
        "benchmark": "ingest",
        "appendfsync": "always",
        "batch_endpoint": batch,
        "single_endpoint": single,
        "raw_pipelined_xadd": raw,
        "ratio_batch_to_raw": round(batch["events_per_s"] / raw["events_per_s"], 3),
        "acknowledged": len(acked),
        "acknowledged_and_present": present,
        "lost": len(acked) - present,
        "chaos": killer.report() if killer else None,
        "cpu_count": os.cpu_count(),
    }


def _batches(base, headers, reports, threads, acked) -> dict:
    chunks = [reports[i:i + 1000] for i in range(0, len(reports), 1000)]
    errors = stored = 0
    lock = threading.Lock()

    def post(chunk):
        nonlocal errors, stored
        with requests.Session() as s:
            try:
                r = s.post(f"{base}/api/v1/events/batch", json={"events": chunk}, headers=headers,
                           timeout=60)
            except requests.RequestException:
                r = None
            with lock:
                if r is not None and r.status_code in (200, 201):
                    ids = [e["id"] for e in r.json()["events"]]
                    acked.extend(ids)
                    stored += len(ids)
                else:
                    errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, chunks))
    seconds = time.perf_counter() - started
    return {"events": len(reports), "stored": stored, "batch_size": 1000,
            "client_threads": threads, "seconds": round(seconds, 3),
            "events_per_s": round(stored / seconds), "failed_requests": errors}


def _singles(base, headers, reports, threads, acked) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def post(report):
        nonlocal errors
        session = getattr(local, "s", None) or requests.Session()
        local.s = session
        t0 = time.perf_counter()
        try:
            r = session.post(f"{base}/api/v1/events", json=report, headers=headers, timeout=30)
        except requests.RequestException:
            r = None
        dt = time.perf_counter() - t0
        with lock:
            if r is not None and r.status_code in (200, 201):
                acked.append(r.json()["id"])
                latencies.append(dt)
            else:
                errors += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, reports))
    seconds = time.perf_counter() - started
    stored = len(latencies)
    latencies.sort()
    pick = (lambda q: round(latencies[int(q * (len(latencies) - 1))] * 1000, 1)) \
        if latencies else (lambda q: None)
    return {"events": len(reports), "client_threads": threads, "seconds": round(seconds, 3),
            "events_per_s": round(stored / seconds), "p50_ms": pick(0.5),
            "p99_ms": pick(0.99), "failed_requests": errors}


def _raw_xadd(client, reports) -> dict:
    started = time.perf_counter()
    for i in range(0, len(reports), 1000):
        with client.pipeline(transaction=False) as pipe:
            for rep in reports[i:i + 1000]:
                pipe.xadd("bench:raw", {"event": json.dumps(rep, ensure_ascii=False)})
            pipe.execute()
    seconds = time.perf_counter() - started
    client.delete("bench:raw")
    return {"events": len(reports), "seconds": round(seconds, 3),
            "events_per_s": round(len(reports) / seconds)}


def _present(client, ids: list[str]) -> int:
    found = 0
    for i in range(0, len(ids), 5000):
        with client.pipeline(transaction=False) as pipe:
            for event_id in ids[i:i + 5000]:
                pipe.exists(f"ev:{event_id}")
            found += sum(pipe.execute())
    return found


class _Chaos:
    """Kills redis-server with SIGKILL after a while, then restarts it on the same AOF."""

    def __init__(self, server, *, after_s: float) -> None:
        self.server, self.after_s = server, after_s
        self.killed_at = self.restarted_after_s = self.error = None

    def run(self) -> None:
        time.sleep(self.after_s)
        os.kill(self.server.pid, signal.SIGKILL)
        self.server._proc.wait()
        self.killed_at = time.time()
        self.server._proc = None
        time.sleep(0.5)
        try:
            self.server.start(timeout=60)
        except Exception as exc:  # report it in the figures rather than die silently
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self.restarted_after_s = round(time.time() - self.killed_at, 2)

    def report(self) -> dict:
        return {"killed_after_s": self.after_s, "restarted_after_s": self.restarted_after_s,
                "restart_error": self.error}
