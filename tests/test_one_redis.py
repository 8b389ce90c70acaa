"""One data folder, one Redis: a second process uses the running server, never a second one."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.store.server import EmbeddedRedis, RedisInUseError, attach_or_start, running_url

POINT = {"lon": 103.893, "lat": 30.806}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_second_server_on_the_same_folder_is_refused_naming_the_first(redis_server, tmp_path):
    with EmbeddedRedis(tmp_path / "r") as first:
        with pytest.raises(RedisInUseError) as info:
            EmbeddedRedis(tmp_path / "r").start()
        assert str(first.pid) in str(info.value) and first.url in str(info.value)
        assert running_url(tmp_path / "r") == first.url
        url, owned = attach_or_start(tmp_path / "r")
        assert (url, owned) == (first.url, None)
    assert running_url(tmp_path / "r") is None  # released on stop
    with EmbeddedRedis(tmp_path / "r"):  # and free for the next start
        pass


def test_the_runtime_attaches_to_the_folders_running_server(redis_server, tmp_path, cache_dir,
                                                             demo_grids):
    settings = Settings(data_dir=tmp_path / "data", cache_dir=cache_dir)
    owner = open_runtime(settings, warm=False, load_grids=False)
    try:
        guest = open_runtime(settings, warm=False, load_grids=False)
        try:
            assert guest.redis_url == owner.redis_url
            assert guest.redis_owner["owner_pid"] == os.getpid()
        finally:
            guest.close()
        assert owner.store.ping(), "closing a guest must not stop the owner's server"
    finally:
        owner.close()


def test_a_busy_port_fails_before_redis_is_touched(redis_server, tmp_path, cache_dir,
                                                    demo_grids):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = _env(tmp_path / "data", cache_dir)
        proc = subprocess.run([sys.executable, "-m", "dashboard.cli", "serve", "--port",
                               str(port)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data").exists(), "Redis was started before the port was checked"


def _env(data_dir: Path, cache_dir: Path) -> dict:
    env = os.environ | {"GRID_DISPATCH_DATA_DIR": str(data_dir),
                        "GRID_DISPATCH_CACHE_DIR": str(cache_dir)}
    env.pop("REDIS_URL", None)
    return env


class _App:
    """A `grid-dispatch` server process, read until it prints its URL."""

    def __init__(self, command: str, env: dict) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", command, "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        deadline = time.monotonic() + 180
        for line in self.proc.stdout:
            self.lines.append(line)
            if "open:" in line or time.monotonic() > deadline:
                break
        assert "open:" in self.lines[-1], "".join(self.lines)
        self.base = f"http://127.0.0.1:{self.port}"

    def post_event(self, token: str, text: str) -> str:
        body = json.dumps({"category": "01001", "description": text, **POINT}).encode()
        req = urllib.request.Request(f"{self.base}/api/v1/events", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)["id"]

    def description(self, token: str, event_id: str) -> str:
        req = urllib.request.Request(f"{self.base}/api/v1/events/{event_id}",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.load(resp)["description"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def test_serve_beside_demo_shares_its_redis_and_every_event_survives(
        redis_server, tmp_path, cache_dir, demo_grids):
    env = _env(tmp_path / "data", cache_dir)
    demo = _App("demo", env)
    serve = None
    try:
        token = CliRunner().invoke(main, ["tokens", "create", "--role", "operator", "--name",
                                          "t"], env=env).output.strip()
        assert re.fullmatch(r"gd_\S+", token), token
        written = {demo.post_event(token, f"demo report {i}"): f"demo report {i}"
                   for i in range(15)}
        serve = _App("serve", env)
        assert f"owned by process {demo.proc.pid}" in "".join(serve.lines)
        written |= {serve.post_event(token, f"serve report {i}"): f"serve report {i}"
                    for i in range(15)}
        assert len(written) == 30, "two processes handed out the same event id"
        for event_id, text in written.items():
            assert demo.description(token, event_id) == text
            assert serve.description(token, event_id) == text
    finally:
        if serve:
            serve.stop()
        demo.stop()
    again = _App("serve", env)  # alone now: it starts the folder's server from its AOF
    try:
        assert "owned by process" not in "".join(again.lines)
        for event_id, text in written.items():
            assert again.description(token, event_id) == text
    finally:
        again.stop()
