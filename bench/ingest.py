"""bench ingest: events/s through the batch and single endpoints, end to end, beside raw XADD.

End to end means HTTP into ``grid-dispatch serve``: JSON parsing, validation, locate, the
atomic store with its indices and change stream, on a fresh Redis with
``appendfsync always``. The baseline is pipelined ``XADD`` of the same records into the
same Redis, measured in the same run. With ``--chaos`` redis-server is killed with SIGKILL
midway (once half the requests are answered) and restarted on its AOF; the figures then count
the answers by status, during the outage and over the whole run (a 503 is the right answer
while Redis is away, a 500 never is), and every event that got a 2xx must still be there.
"""

from __future__ import annotations

import json
import math
import os
import signal
import threading
import time
from collections import Counter

import orjson
import redis

from bench import http_load
from bench.harness import running_server, sample_reports
from dispatch.store import keys
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
    requests_per_round = -(-batch_events // 1000) + single_events
    answers = _Answers(halfway=requests_per_round // 2)
    with running_server(settings, server=server, workers=workers,
                        threads=threads) as (base, redis_server, token, pid):
        address = _address(base)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        acked: list[str] = []
        batches: list[dict] = []
        singles: list[dict] = []
        cpu = _Cpu(server_pid=pid, redis=redis_server)

        def load() -> None:
            answers.started = time.time()
            for _ in range(rounds):
                cpu.mark()
                batches.append(_batches(address, headers, reports[:batch_events],
                                        connections, acked, answers) | cpu.per(batch_events))
                cpu.mark()
                singles.append(_singles(address, headers, reports[batch_events:],
                                        connections * 8, acked, answers)
                               | cpu.per(single_events))

        worker = threading.Thread(target=load)
        worker.start()
        # The restart runs on this (main) thread: the kernel's parent-death signal follows
        # the thread that started redis-server, so it must outlive the run.
        killer = _Chaos(redis_server, answers) if chaos else None
        if killer:
            killer.run(worker)
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
        "chaos": killer.report(lost=len(acked) - present) if killer else None,
        "cpu_count": os.cpu_count(),
    }


def _median(rounds: list[dict]) -> dict:
    """The round with the median events/s (the lower one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r["events_per_s"])
    return ordered[(len(ordered) - 1) // 2]


def _address(base: str) -> tuple[str, int]:
    host, _, port = base.removeprefix("http://").partition(":")
    return host, int(port)


def _batches(address, headers, reports, connections, acked, answers) -> dict:
    bodies = [orjson.dumps({"events": reports[i:i + 1000]})
              for i in range(0, len(reports), 1000)]
    wire = [http_load.encode("POST", "/api/v1/events/batch", b, host=address[0],
                             headers=headers) for b in bodies]
    stored = errors = 0

    def answer(_i: int, a: http_load.Answer) -> None:
        nonlocal stored, errors
        answers.add(a.status)
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


def _singles(address, headers, reports, connections, acked, answers) -> dict:
    wire = [http_load.encode("POST", "/api/v1/events", orjson.dumps(r), host=address[0],
                             headers=headers) for r in reports]
    latencies: list[float] = []
    errors = 0

    def answer(_i: int, a: http_load.Answer) -> None:
        nonlocal errors
        answers.add(a.status)
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
    """CPU seconds the server (with its workers), Redis and this client used per event.

    Redis's figure is None for a phase in which it was restarted (``--chaos``): the new
    process's counters start again from zero.
    """

    def __init__(self, *, server_pid: int, redis) -> None:
        self.server_pid, self.redis = server_pid, redis
        self._at = (0.0, 0.0, 0.0)
        self._redis_pid = redis.pid

    def _now(self) -> tuple[float, float, float]:
        return (_tree_cpu(self.server_pid), _proc_cpu(self.redis.pid), time.process_time())

    def mark(self) -> None:
        self._at = self._now()
        self._redis_pid = self.redis.pid
        self._stat = _machine()

    def per(self, events: int) -> dict:
        now = self._now()
        us = [round((b - a) / max(events, 1) * 1e6, 1) for a, b in zip(self._at, now,
                                                                        strict=True)]
        redis_us = us[1] if self.redis.pid == self._redis_pid else None
        (busy0, steal0, total0), (busy1, steal1, total1) = self._stat, _machine()
        span = max(total1 - total0, 1)
        return {"cpu_us_per_event": {"server": us[0], "redis": redis_us, "client": us[2]},
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
                pipe.exists(keys.event(event_id))
            found += sum(pipe.execute())
    return found


class _Answers:
    """When each answer came and its status (0: the connection failed before one came)."""

    def __init__(self, *, halfway: int) -> None:
        self.seen: list[tuple[float, int]] = []
        self.started = time.time()
        self.halfway = threading.Event()
        self._halfway_at = max(1, halfway)

    def add(self, status: int) -> None:
        self.seen.append((time.time(), status))
        if len(self.seen) >= self._halfway_at:
            self.halfway.set()

    def between(self, start: float, end: float) -> list[int]:
        return [status for at, status in self.seen if start <= at <= end]


def _by_status(statuses: list[int]) -> dict:
    """Answers by what they were: a 503 tells the client to retry, a 500 is a bug."""
    counts = Counter(statuses)
    server_errors = sum(n for s, n in counts.items() if s >= 500)
    return {"answers": len(statuses),
            "succeeded": sum(n for s, n in counts.items() if 200 <= s < 300),
            "503": counts[503], "500": counts[500],
            "other_5xx": server_errors - counts[503] - counts[500],
            "other": sum(n for s, n in counts.items() if 0 < s < 200 or 300 <= s < 500),
            "no_answer": counts[0],
            "by_status": {str(s): n for s, n in sorted(counts.items())}}


class _Chaos:
    """Kills redis-server with SIGKILL once half the requests are answered, then restarts it
    on the same port and AOF."""

    def __init__(self, server, answers: _Answers, *, down_s: float = 0.5) -> None:
        self.server, self.answers, self.down_s = server, answers, down_s
        self.killed_at = self.back_at = self.error = None

    def run(self, load: threading.Thread) -> None:
        while not self.answers.halfway.wait(0.2):
            if not load.is_alive():
                return
        self.killed_at = time.time()
        os.kill(self.server.pid, signal.SIGKILL)
        self.server.stop()  # reaps it; port and data folder stay for the restart
        time.sleep(self.down_s)
        try:
            self.server.start(timeout=60)
        except Exception as exc:  # report it in the figures rather than die silently
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self.back_at = time.time()

    def report(self, *, lost: int) -> dict:
        """The outage is from the kill until the restarted server answered PING."""
        killed = self.killed_at if self.killed_at is not None else math.inf
        back = self.back_at if self.back_at is not None else math.inf
        during = _by_status(self.answers.between(killed, back))
        overall = _by_status([status for _, status in self.answers.seen])
        return {"killed_after_s": _since(self.answers.started, self.killed_at),
                "outage_s": _since(self.killed_at, self.back_at),
                "restart_error": self.error,
                "answers_during_outage": during, "answers_whole_run": overall,
                "answered_500": overall["500"], "acknowledged_lost": lost}


def _since(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else round(end - start, 2)
