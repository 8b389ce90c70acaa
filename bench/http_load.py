"""A lean HTTP/1.1 load generator: pre-encoded requests over keep-alive sockets, one thread.

The benchmarks run the client on the same two cores as the server, so the client must cost
little: ``requests`` spends about 0.5 ms of CPU per call, which would be measured as the
server's. Here each connection keeps one request in flight (a closed loop) and a selector
waits on all of them; a response is read by its ``Content-Length``.
"""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

#: A kept-alive socket idle longer than this is opened anew rather than reused.
IDLE_S = 10.0


class LoadError(RuntimeError):
    """The server answered in a way this client does not read (e.g. chunked)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int  # 0 when the connection failed before an answer came
    body: bytes
    seconds: float


def encode(method: str, path: str, body: bytes, *, host: str,
           headers: dict[str, str]) -> bytes:
    """One request as bytes on the wire."""
    head = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class _Conn:
    address: tuple[str, int]
    sock: socket.socket | None = None
    buf: bytearray = field(default_factory=bytearray)
    started: float = 0.0
    busy: bool = False
    last: float = 0.0  # when the socket last answered (or opened)
    closing: bool = False  # the last answer said Connection: close

    def open(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf.clear()
        self.last = time.monotonic()
        self.closing = False

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None

    def answer(self) -> tuple[int, bytes] | None:
        """A complete response from the buffer, or None while more is to come."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = None
        for line in head[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                self.closing = True
            elif name == "transfer-encoding":
                raise LoadError(f"cannot read a {value.strip()} response")
        if length is None:
            raise LoadError("response without Content-Length")
        if len(self.buf) < end + 4 + length:
            return None
        body = bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        self.last = time.monotonic()
        return status, body


def run(address: tuple[str, int], requests: Sequence[bytes], *, concurrency: int,
        on_answer: Callable[[int, Answer], None]) -> float:
    """Send every request (index order, ``concurrency`` at a time); returns seconds taken.

    ``on_answer(i, answer)`` is called once per request. A connection that breaks costs its
    request (status 0) and is opened again for the next one. Like a browser's pool, a socket
    idle for :data:`IDLE_S` is not reused (servers close idle connections: ``serve`` after
    15 s), and an answer that says ``Connection: close`` ends its socket.
    """
    todo: Iterator[int] = iter(range(len(requests)))
    sel = selectors.DefaultSelector()
    conns = [_Conn(address) for _ in range(max(1, min(concurrency, len(requests))))]
    current: dict[int, int] = {}
    started = time.perf_counter()

    def send_next(c: _Conn) -> None:
        while (i := next(todo, None)) is not None:
            try:
                if c.sock is not None and (c.closing or time.monotonic() - c.last > IDLE_S):
                    _drop(c)
                if c.sock is None:
                    c.open()
                    sel.register(c.sock, selectors.EVENT_READ, c)
                c.started = time.perf_counter()
                c.sock.sendall(requests[i])
            except OSError:
                _drop(c)
                on_answer(i, Answer(0, b"", time.perf_counter() - c.started))
                continue
            current[id(c)], c.busy = i, True
            return
        c.busy = False

    def _drop(c: _Conn) -> None:
        if c.sock is not None:
            sel.unregister(c.sock)
        c.close()
        c.busy = False

    for c in conns:
        send_next(c)
    while any(c.busy for c in conns):
        for key, _ in sel.select(timeout=60):
            c: _Conn = key.data
            try:
                chunk = c.sock.recv(1 << 18)
            except OSError:
                chunk = b""
            if not chunk:
                _drop(c)
                on_answer(current.pop(id(c)), Answer(0, b"", time.perf_counter() - c.started))
                send_next(c)
                continue
            c.buf += chunk
            got = c.answer()
            if got is not None:
                on_answer(current.pop(id(c)), Answer(got[0], got[1],
                                                     time.perf_counter() - c.started))
                send_next(c)
    for c in conns:
        c.close()
    sel.close()
    return time.perf_counter() - started
