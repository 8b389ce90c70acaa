"""`grid-dispatch http`: the app under granian in several processes, on the site's Redis."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from dashboard.settings import Settings
from dashboard.wsgi import SharedRedisRequired, create
from geo.model import Tier


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_workers_refuse_to_start_their_own_redis(tmp_path):
    with pytest.raises(SharedRedisRequired, match="REDIS_URL"):
        create(Settings(redis_url=None, data_dir=tmp_path))


def test_wsgi_app_serves_apis_but_no_websocket(redis_server, demo_grids, cache_dir, tmp_path,
                                               api_token, operator_login):
    app = create(Settings(redis_url=redis_server.url, cache_dir=cache_dir, data_dir=tmp_path))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {api_token}"}
    point = demo_grids.tier(Tier.MICRO).geometry.iloc[7].representative_point()
    posted = client.post("/api/v1/events", headers=auth,
                         json={"category": "01001", "lon": point.x, "lat": point.y,
                               "description": "井盖破损"})
    assert posted.status_code == 201, posted.get_json()
    event = client.get(f"/api/v1/events/{posted.get_json()['id']}", headers=auth).get_json()
    assert event["grid"]["micro"] == demo_grids.tier(Tier.MICRO)["code"].iloc[7]
    assert [c["kind"] for c in event["timeline"]] == ["event.created"]
    # HTTP catch-up works without a live feed thread in this process …
    snapshot = client.get("/api/v1/live/changes", headers=auth).get_json()
    assert snapshot["kind"] == "snapshot"
    assert any(e["id"] == event["id"] for e in snapshot["events"])
    # … and a signed-in page finds no Socket.IO endpoint here: the balancer sends it to `serve`.
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
    user, password = operator_login
    signed = client.post("/login", data={"username": user, "password": password,
                                         "csrf": token})
    assert signed.status_code == 302, signed.text
    handshake = client.get("/socket.io/?EIO=4&transport=polling")
    assert b'"sid"' not in handshake.data


def test_http_command_serves_from_several_workers(redis_server, demo_grids, api_token,
                                                   tmp_path):
    port = _free_port()
    env = os.environ | {"REDIS_URL": redis_server.url,
                        "GRID_DISPATCH_DATA_DIR": str(tmp_path / "data")}
    log = tmp_path / "http.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "http", "--port",
                                 str(port), "--workers", "2", "--threads", "2"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        pids = _worker_pids_answering(port, api_token, proc, log)
        assert len(pids) == 2, pids
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def _worker_pids_answering(port: int, token: str, proc, log) -> set[int]:
    """Fresh connections until both workers answered (each reports its own process id)."""
    url = f"http://127.0.0.1:{port}/healthz"
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    seen: set[int] = set()
    deadline = time.monotonic() + 120
    while len(seen) < 2 and time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"grid-dispatch http exited:\n{log.read_text()}")
        try:
            r = requests.get(url, headers=headers, timeout=30)
        except requests.RequestException:
            time.sleep(0.3)
            continue
        assert r.status_code == 200, r.text
        seen.add(r.json()["pid"])
    return seen
