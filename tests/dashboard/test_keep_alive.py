"""`grid-dispatch serve` keeps HTTP/1.1 connections open without losing or mixing requests."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from dashboard.cli.run import _KeepAliveHandler

REQUESTS = 300
TIMEOUT = 5.0  # per request: a hung connection fails the test in seconds, not minutes


def _send(sock: socket.socket, method: str, path: str, body: bytes = b"",
          headers: str = "") -> http.client.HTTPResponse:
    """One request on an already open socket, read to the end of its response."""
    head = f"{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    sock.sendall(head.encode() + body)
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    response.read()
    return response


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionError:
        return True


@pytest.fixture
def endpoint(live_server) -> tuple[str, int]:
    url = urlsplit(live_server)
    return url.hostname, url.port


def test_one_connection_answers_every_request(endpoint):
    answered, closing = 0, 0
    with socket.create_connection(endpoint, timeout=TIMEOUT) as sock:
        for _ in range(REQUESTS):
            try:
                response = _send(sock, "GET", "/healthz")
            except (OSError, http.client.HTTPException):
                break
            answered += response.status == 200
            closing += response.will_close
    assert (answered, closing) == (REQUESTS, 0)


def test_unread_body_closes_instead_of_prefixing_the_next_request(endpoint):
    """A body the app never read would otherwise be parsed as the start of the next request."""
    with socket.create_connection(endpoint, timeout=TIMEOUT) as sock:
        assert _send(sock, "HEAD", "/healthz").status == 200
        assert _send(sock, "GET", "/healthz").status == 200
        refused = _send(sock, "POST", "/api/v1/events", b'{"category": "01001"}',
                        "Content-Type: application/json\r\n")
        assert refused.status == 401
        assert refused.getheader("Connection") == "close"
        assert _closed(sock)
    with socket.create_connection(endpoint, timeout=TIMEOUT) as sock:
        read = _send(sock, "POST", "/login", b"username=nobody&password=x&csrf=x",
                     "Content-Type: application/x-www-form-urlencoded\r\n")
        assert not read.will_close
        assert _send(sock, "GET", "/healthz").status == 200


def _short_body(environ: dict, start_response) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Length", "10")])
    yield b"12345"
    raise RuntimeError("failed halfway through the body")


def test_short_body_ends_the_connection():
    """The client would otherwise wait for the missing bytes until the idle timeout."""
    server = make_server("127.0.0.1", 0, _short_body, threaded=True,
                         request_handler=_KeepAliveHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
            with pytest.raises(http.client.IncompleteRead):
                _send(sock, "GET", "/")
            assert _closed(sock)
    finally:
        server.shutdown()
        thread.join(TIMEOUT)
