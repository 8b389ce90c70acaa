"""The embedded redis-server: real, persistent, and never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import redis

from dispatch.store.server import EmbeddedRedis


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie still answers kill(0): look at its state
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_starts_with_aof_and_keeps_data_across_restart(redis_server, tmp_path):
    server = EmbeddedRedis(tmp_path / "r")
    with server:
        client = redis.Redis.from_url(server.url)
        assert client.config_get("appendonly")["appendonly"] == "yes"
        assert client.config_get("appendfsync")["appendfsync"] == "always"
        client.set("k", "v")
        pid = server.pid
    assert _wait_gone(pid)
    with EmbeddedRedis(tmp_path / "r") as again:
        assert redis.Redis.from_url(again.url).get("k") == b"v"


def test_child_dies_when_parent_is_killed_outright(redis_server, tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from dispatch.store.server import EmbeddedRedis
        server = EmbeddedRedis(Path({str(tmp_path / 'orphan')!r})).start()
        print(server.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _wait_gone(child), "redis-server outlived its parent"


def test_ctrl_c_on_the_app_stops_its_redis(redis_server, tmp_path, cache_dir, demo_grids):
    env = os.environ | {"GRID_DISPATCH_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)
    app = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    pid = None
    for line in app.stdout:
        if "embedded redis-server pid" in line:
            pid = int(line.split("pid")[1].split()[0])
        if "open:" in line:
            break
    assert pid and _alive(pid)
    app.send_signal(signal.SIGINT)
    app.wait(20)
    assert _wait_gone(pid), "redis-server left running after Ctrl-C"
