"""The ingest benchmark and its load client, on small numbers (figures are not checked)."""

from __future__ import annotations

import socket
import threading

import orjson

from bench import http_load
from bench.ingest import run
from dashboard.settings import Settings


def test_load_client_reads_answers_and_survives_a_dropped_connection():
    """One answer per request, in any order; a closed connection costs only its request."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            with conn:
                buf = b""
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
                    while b"\r\n\r\n" in buf:
                        head, _, buf = buf.partition(b"\r\n\r\n")
                        if b"/drop" in head:
                            conn.close()  # answer nothing: the client must move on
                            break
                        body = orjson.dumps({"path": head.split(b" ")[1].decode()})
                        conn.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: "
                                     + str(len(body)).encode() + b"\r\n\r\n" + body)
                    else:
                        continue
                    break

    threading.Thread(target=serve, daemon=True).start()
    paths = ["/a", "/b", "/drop", "/c"]
    wire = [http_load.encode("POST", p, b"{}", host="127.0.0.1", headers={}) for p in paths]
    answers: dict[int, http_load.Answer] = {}
    http_load.run(("127.0.0.1", port), wire, concurrency=1,
                  on_answer=lambda i, a: answers.__setitem__(i, a))
    listener.close()
    assert sorted(answers) == [0, 1, 2, 3]
    assert answers[2].status == 0
    for i in (0, 1, 3):
        assert answers[i].status == 201
        assert orjson.loads(answers[i].body) == {"path": paths[i]}


def test_bench_ingest_runs_end_to_end(demo_grids, cache_dir):
    figures = run(Settings(cache_dir=cache_dir), batch_events=2000, single_events=100,
                  rounds=1, workers=2)
    assert figures["batch_endpoint"]["stored"] == 2000
    assert figures["batch_endpoint"]["failed_requests"] == 0
    assert figures["single_endpoint"]["failed_requests"] == 0
    assert figures["acknowledged"] == figures["acknowledged_and_present"] == 2100
    assert figures["lost"] == 0
    assert figures["batch_endpoint"]["cpu_us_per_event"]["server"] > 0
    assert figures["raw_pipelined_xadd"]["events"] == 2000


def test_answers_are_counted_by_what_they_mean():
    from bench.ingest import _by_status

    counts = _by_status([201, 201, 200, 503, 503, 500, 502, 401, 0])
    assert counts["answers"] == 9 and counts["succeeded"] == 3
    assert (counts["503"], counts["500"], counts["other_5xx"]) == (2, 1, 1)
    assert counts["other"] == 1 and counts["no_answer"] == 1
    assert counts["by_status"] == {"0": 1, "200": 1, "201": 2, "401": 1, "500": 1, "502": 1,
                                   "503": 2}


def test_bench_ingest_chaos_answers_503_never_500_and_loses_nothing(demo_grids, cache_dir):
    figures = run(Settings(cache_dir=cache_dir), batch_events=2000, single_events=400,
                  rounds=1, workers=2, chaos=True)
    chaos = figures["chaos"]
    assert chaos["restart_error"] is None and chaos["outage_s"] > 0
    assert chaos["answers_whole_run"]["answers"] == 2 + 400
    assert chaos["answered_500"] == 0 and chaos["answers_whole_run"]["other_5xx"] == 0
    assert chaos["acknowledged_lost"] == figures["lost"] == 0
    assert figures["acknowledged"] == figures["acknowledged_and_present"] > 0
