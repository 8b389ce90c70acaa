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

import orjson
import redis

from bench import http_load
from bench.harness import running_server, sample_reports
from geo.catalog import demo_grid_set


def run(settings, *, batch_events: int, single_events: int, connections: int = 2,
        server: str = "http", workers: int = 2, threads: int = 8, rounds: int = 3,
        chaos: bool = False) -> dict:
    """``rounds`` of (batch phase, single phase) on one server; figures of the median round.

    A shared machine's speed drifts from minute to minute (the JSON carries the CPU time
    the hypervisor took away, ``steal``), so each round is reported and the median is the
    figure.
    """
    rounds = 1 if chaos else max(1, rounds)
    grids = demo_grid_set(settings.cache_dir)
    reports = sample_reports(grids, batch_events + single_events, seed=3)
    with running_server(settings, server=server, workers=workers,
                        threads=threads) as (base, redis_server, token, pid):
        address = _address(base)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        acked: list[str] = []
        batches: list[dict] = []
        singles: list[dict] = []
        cpu = _Cpu(server_pid=pid, redis_pid=redis_server.pid)

        def load() -> None:
            for _ in range(rounds):
                cpu.mark()
                batches.append(_batches(address, headers, reports[:batch_events],
                                        connections, acked) | cpu.per(batch_events))
                cpu.mark()
                singles.append(_singles(address, headers, reports[batch_events:],
                                        connections * 8, acked) | cpu.per(single_events))

        worker = threading.Thread(target=load)
        worker.start()
        # The restart runs on this (main) thread: the kernel's parent-death signal follows
        # the thread that started redis-server, so it must outlive the run.
        killer = _Chaos(redis_server, after_s=1.0) if chaos else None
        if killer:
            killer.run()
        worker.join()
        batch, single = _median(batches), _median(singles)
        if killer and killer.error:
            raise RuntimeError(f"redis-server did not come back: {killer.error}")
        client = redis.Redis.from_url(redis_server.url, decode_responses=True)
        present = _present(client, acked)
        raw = _raw_xadd(client, reports[:batch_events])
        client.close()
    return {
        "benchmark": "ingest",
        "appendfsync": "always",
        "server": f"grid-dispatch {server}" + (
            f" --workers {workers} --threads {threads}" if server == "http" else ""),
        "batch_endpoint": batch,
        "single_endpoint": single,
        "rounds": {"batch_events_per_s": [b["events_per_s"] for b in batches],
                   "single_events_per_s": [x["events_per_s"] for x in singles]},
        "raw_pipelined_xadd": raw,
        "ratio_batch_to_raw": round(batch["events_per_s"] / raw["events_per_s"], 3),
        "acknowledged": len(acked),
        "acknowledged_and_present": present,
        "lost": len(acked) - present,
        "chaos": killer.report() if killer else None,
        "cpu_count": os.cpu_count(),
    }


def _median(rounds: list[dict]) -> dict:
    """The round with the median events/s (the lower one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r["events_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def _address(base: str) -> tuple[str, int]:
    host, _, port = base.removeprefix("http://").partition(":")
    return host, int(port)


def _batches(address, headers, reports, connections, acked) -> dict:
    bodies = [orjson.dumps({"events": reports[i:i + 1000]})
              for i in range(0, len(reports), 1000)]
    wire = [http_load.encode("POST", "/api/v1/events/batch", b, host=address[0],
                             headers=headers) for b in bodies]
    stored = errors = 0

    def answer(_i: int, a: http_load.Answer) -> None:
        nonlocal stored, errors
        if a.status in (200, 201):
            ids = [e["id"] for e in orjson.loads(a.body)["events"]]
            acked.extend(ids)
            stored += len(ids)
        else:
            errors += 1

    seconds = http_load.run(address, wire, concurrency=connections, on_answer=answer)
    return {"events": len(reports), "stored": stored, "batch_size": 1000,
            "connections": connections, "seconds": round(seconds, 3),
            "events_per_s": round(stored / seconds), "failed_requests": errors}


def _singles(address, headers, reports, connections, acked) -> dict:
    wire = [http_load.encode("POST", "/api/v1/events", orjson.dumps(r), host=address[0],
                             headers=headers) for r in reports]
    latencies: list[float] = []
    errors = 0

    def answer(_i: int, a: http_load.Answer) -> None:
        nonlocal errors
        if a.status in (200, 201):
            acked.append(orjson.loads(a.body)["id"])
            latencies.append(a.seconds)
        else:
            errors += 1

    seconds = http_load.run(address, wire, concurrency=connections, on_answer=answer)
    stored = len(latencies)
    latencies.sort()
    pick = (lambda q: round(latencies[int(q * (len(latencies) - 1))] * 1000, 1)) \
        if latencies else (lambda q: None)
    return {"events": len(reports), "connections": connections, "seconds": round(seconds, 3),
            "events_per_s": round(stored / seconds), "p50_ms": pick(0.5),
            "p99_ms": pick(0.99), "failed_requests": errors}


class _Cpu:
    """CPU seconds the server (with its workers), Redis and this client used per event."""

    def __init__(self, *, server_pid: int, redis_pid: int) -> None:
        self.server_pid, self.redis_pid = server_pid, redis_pid
        self._at = (0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float]:
        return (_tree_cpu(self.server_pid), _proc_cpu(self.redis_pid), time.process_time())

    def mark(self) -> None:
        self._at = self._now()
        self._stat = _machine()

    def per(self, events: int) -> dict:
        now = self._now()
        us = [round((b - a) / max(events, 1) * 1e6, 1) for a, b in zip(self._at, now,
                                                                        strict=True)]
        (busy0, steal0, total0), (busy1, steal1, total1) = self._stat, _machine()
        span = max(total1 - total0, 1)
        return {"cpu_us_per_event": {"server": us[0], "redis": us[1], "client": us[2]},
                "machine_busy": round((busy1 - busy0) / span, 3),
                "machine_steal": round((steal1 - steal0) / span, 3)}


def _machine() -> tuple[int, int, int]:
    """(busy, stolen, total) clock ticks of all cores from /proc/stat (zeros elsewhere)."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return 0, 0, 0
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle - ticks[7], ticks[7], sum(ticks)


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:  # gone (chaos) or not Linux: no figure rather than a wrong one
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu(pid: int) -> float:
    """A process and its children (granian's workers)."""
    total = _proc_cpu(pid)
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            children = [int(c) for c in fh.read().split()]
    except OSError:
        children = []
    return total + sum(_tree_cpu(c) for c in children)


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
