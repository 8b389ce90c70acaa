"""Nothing acknowledged is lost: kill -9 redis-server under load, restart it on its AOF."""

from __future__ import annotations

import os
import signal
import threading
import time

import redis

from dispatch.access.roles import Actor, Role
from dispatch.events.intake import Intake, Report, parse
from dispatch.events.models import Source
from dispatch.events.workflow import SystemClock
from dispatch.store import Store, StoreError
from dispatch.store.server import EmbeddedRedis
from geo.locate import Locator
from tests.support import vault

REPORT = {"category": "06001", "lon": 103.893, "lat": 30.806, "description": "井盖缺失"}


def test_every_acknowledged_event_survives_a_sigkill(tmp_path, demo_grids):
    server = EmbeddedRedis(tmp_path / "redis").start()
    store = Store.from_url(server.url)
    intake = Intake(store=store.events, locator=Locator(demo_grids), clock=SystemClock(),
                    vault=vault())
    actor = Actor(name="load", role=Role.OPERATOR)
    acked: list[str] = []
    failures = 0
    stop = threading.Event()

    def load() -> None:
        nonlocal failures
        while not stop.is_set():
            try:
                created = intake.submit_many(
                    [Report(data=parse(REPORT), source=Source.API) for _ in range(20)],
                    actor=actor)
                acked.extend(c.id for c in created)
            except StoreError:
                failures += 1
                time.sleep(0.05)

    worker = threading.Thread(target=load)
    worker.start()
    try:
        time.sleep(0.8)
        os.kill(server.pid, signal.SIGKILL)
        server._proc.wait()
        server._proc = None
        time.sleep(0.3)
        server.start()
        time.sleep(0.8)
    finally:
        stop.set()
        worker.join(10)
    try:
        client = redis.Redis.from_url(server.url)
        with client.pipeline(transaction=False) as pipe:
            for event_id in acked:
                pipe.exists(f"ev:{event_id}")
            present = sum(pipe.execute())
        assert failures > 0, "redis-server was never down while the load ran"
        assert len(acked) > 100
        assert present == len(acked), f"{len(acked) - present} acknowledged events lost"
        assert client.zcard("idx:all") >= len(acked)
    finally:
        store.close()
        server.stop()
