"""Real time against running servers: snapshot, deltas, catch-up, coalescing, two processes."""

from __future__ import annotations

import itertools
import threading
import time

import pytest
import requests
import socketio

REPORT = {"category": "06001", "lon": 103.893, "lat": 30.806, "description": "井盖缺失"}


class Listener:
    def __init__(self, base: str, auth: dict) -> None:
        self.messages: list[tuple[str, dict, float]] = []
        self.cond = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("snapshot", lambda p: self._got("snapshot", p), namespace="/live")
        self.client.on("delta", lambda p: self._got("delta", p), namespace="/live")
        self.client.connect(base, namespaces=["/live"], auth=auth, transports=["websocket"],
                            wait_timeout=20)

    def _got(self, kind: str, payload: dict) -> None:
        with self.cond:
            self.messages.append((kind, payload, time.time()))
            self.cond.notify_all()

    def wait_for(self, predicate, timeout: float = 5.0):
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for kind, payload, at in self.messages:
                    if predicate(kind, payload):
                        return kind, payload, at
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"nothing matched in {timeout}s: {self.messages[-3:]}")
                self.cond.wait(left)

    def close(self) -> None:
        self.client.disconnect()


def _post(base: str, token: str, **extra) -> tuple[str, float]:
    r = requests.post(f"{base}/api/v1/events", json=REPORT | extra,
                      headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["id"], time.time()


def _has_created(event_id):
    return lambda kind, p: any(c.get("id") == event_id and c.get("kind") == "event.created"
                               for c in p.get("changes", []))


def test_snapshot_then_delta_for_a_new_event(live_server, api_token):
    listener = Listener(live_server, {"token": api_token})
    try:
        _, snap, _ = listener.wait_for(lambda k, p: k == "snapshot")
        event_id, posted = _post(live_server, api_token, description="新事件 · 实时")
        _, delta, at = listener.wait_for(_has_created(event_id))
        print(f"\ndelta received {at - posted:.3f} s after the post (bench fanout measures this)")
        assert delta["seq"] > snap["seq"] or len(delta["seq"]) > len(snap["seq"])
        view = next(e for e in delta["events"] if e["id"] == event_id)
        assert view["grid"]["micro"] and view["status"] == "registered"
    finally:
        listener.close()


def test_reconnect_with_since_gets_exactly_what_it_missed(live_server, api_token):
    first = Listener(live_server, {"token": api_token})
    _, snap, _ = first.wait_for(lambda k, p: k == "snapshot")
    first.close()
    missed = [_post(live_server, api_token)[0] for _ in range(3)]
    again = Listener(live_server, {"token": api_token, "since": snap["seq"]})
    try:
        kind, delta, _ = again.wait_for(lambda k, p: True)
        assert kind == "delta"
        created = [c["id"] for c in delta["changes"] if c["kind"] == "event.created"]
        assert created[-3:] == missed and set(missed) <= {e["id"] for e in delta["events"]}
        assert all(c["seq"] > snap["seq"] for c in delta["changes"])
    finally:
        again.close()


def test_http_catch_up_matches_and_bad_since_is_named(live_server, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    snap = requests.get(f"{live_server}/api/v1/live/changes", headers=headers).json()
    event_id, _ = _post(live_server, api_token)
    delta = requests.get(f"{live_server}/api/v1/live/changes", params={"since": snap["seq"]},
                         headers=headers).json()
    assert delta["kind"] == "delta" and event_id in {e["id"] for e in delta["events"]}
    bad = requests.get(f"{live_server}/api/v1/live/changes", params={"since": "abc"},
                       headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "since"


def test_unauthenticated_socket_is_refused(live_server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(live_server, {"token": "gd_not-a-token"})


def test_changes_are_coalesced_per_tick(live_server, api_token):
    """A batch is stored in one step, so its 25 new events reach a client in one delta, in
    order, none twice, and each delta names the one before it."""
    listener = Listener(live_server, {"token": api_token})
    try:
        listener.wait_for(lambda k, p: k == "snapshot")
        batch = [REPORT | {"description": f"成批上报 {i} · {time.time()}"} for i in range(25)]
        r = requests.post(f"{live_server}/api/v1/events/batch", json={"events": batch},
                          headers={"Authorization": f"Bearer {api_token}"}, timeout=10)
        assert r.status_code in (200, 201), r.text
        assert {item["outcome"] for item in r.json()["events"]} == {"created"}
        ids = [item["id"] for item in r.json()["events"]]
        listener.wait_for(_has_created(ids[-1]))
        deltas = [p for k, p, _ in listener.messages if k == "delta"]
        carrying = [p for p in deltas
                    if any(c.get("id") in ids for c in p["changes"])]
        assert len(carrying) == 1, "one stored batch must reach the client as one delta"
        got = [c["id"] for c in carrying[0]["changes"] if c["kind"] == "event.created"]
        assert [i for i in got if i in ids] == ids  # in order, none twice
        assert all(b["prev"] == a["seq"] for a, b in itertools.pairwise(deltas))
    finally:
        listener.close()


def test_event_posted_to_one_process_reaches_clients_of_another(server_factory, api_token):
    a, b = server_factory(), server_factory()
    listener = Listener(a.url, {"token": api_token})
    try:
        listener.wait_for(lambda k, p: k == "snapshot")
        event_id, _ = _post(b.url, api_token)
        listener.wait_for(_has_created(event_id))
    finally:
        listener.close()
