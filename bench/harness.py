"""A real server for benchmarks: a fresh embedded Redis and ``grid-dispatch serve`` on it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import requests
import shapely

from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.store import Store
from dispatch.store.server import EmbeddedRedis, free_port
from geo.grids import GridSet
from geo.model import Tier


@contextmanager
def running_server(settings, *, fsync: str = "always", server: str = "serve",
                   workers: int = 2, threads: int = 8):
    """Yields (base_url, redis_server, token, server_pid); everything is stopped afterwards.

    ``server`` is ``serve`` (one process, with the live feed) or ``http`` (granian with
    ``workers`` processes of ``threads`` request threads, as a site runs its API pool).
    """
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        redis_server = EmbeddedRedis(Path(tmp) / "redis", appendfsync=fsync).start()
        port = free_port()
        env = os.environ | {"REDIS_URL": redis_server.url,
                            "GRID_DISPATCH_DATA_KEY": _data_key(),
                            "GRID_DISPATCH_CACHE_DIR": str(settings.cache_dir)}
        extra = ["--workers", str(workers), "--threads", str(threads)] if server == "http" \
            else []
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", server, "--port",
                                 str(port), *extra], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_port(port, proc)
            store = Store.from_url(redis_server.url)
            token = Auth(store.auth).create_token(name="bench", role=Role.OPERATOR)
            store.close()
            base = f"http://127.0.0.1:{port}"
            _wait_ready(base, token, proc)
            yield base, redis_server, token, proc.pid
        finally:
            stop_server(proc)
            redis_server.stop()


def _wait_ready(base: str, token: str, proc, timeout: float = 120.0) -> None:
    """Every worker has loaded the grids once a few answers in a row came back 200."""
    deadline = time.monotonic() + timeout
    ok = 0
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}  # any worker
    while ok < 8:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not become ready")
        try:
            r = requests.get(f"{base}/api/v1/events?limit=1", timeout=30, headers=headers)
            ok = ok + 1 if r.status_code == 200 else 0
        except requests.RequestException:
            ok = 0
            time.sleep(0.3)


def stop_server(proc) -> None:
    """The server and its worker processes: they share its session."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass


def _wait_port(port: int, proc, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("grid-dispatch serve exited during start")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("grid-dispatch serve did not start")


def sample_reports(grids: GridSet, n: int, *, seed: int) -> list[dict]:
    """``n`` reports at points inside random micro-grids."""
    micro = grids.tier(Tier.MICRO)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(micro), n)
    points = shapely.point_on_surface(micro.geometry.to_numpy()[picks])
    xy = shapely.get_coordinates(points)
    cats = ("01001", "05002", "06001", "06002", "11004", "15002")
    return [{"category": cats[i % len(cats)], "lon": float(x), "lat": float(y),
             "description": f"压力测试事件 {i}", "address": "测试地址"}
            for i, (x, y) in enumerate(xy)]


def _data_key() -> str:
    """The site's key if one is set, else a throwaway one: a bench's Redis is thrown away too."""
    from dispatch.privacy.vault import new_key

    return os.environ.get("GRID_DISPATCH_DATA_KEY") or new_key()
