"""``demo``, ``serve`` and ``http``: the app itself, with its embedded Redis or a site's."""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from typing import Any, BinaryIO

import click
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from dashboard.cli.common import main, settings_from_env


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8050).")
def demo(host: str | None, port: int | None) -> None:
    """Everything a visitor needs: embedded Redis, synthetic Pidu, the situation map."""
    _run(settings_from_env(host=host, port=port), demo=True)


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8050).")
def serve(host: str | None, port: int | None) -> None:
    """The same app without the demo simulators."""
    _run(settings_from_env(host=host, port=port), demo=False)


@main.command("http")
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8050).")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Processes (one per core is a good start).")
@click.option("--threads", type=int, default=8, show_default=True,
              help="Request threads per process (requests mostly wait on Redis).")
def http_(host: str | None, port: int | None, workers: int, threads: int) -> None:
    """Pages and APIs in several processes under granian, on the site's Redis (REDIS_URL).

    No live websocket here: a balancer sends /socket.io/ to `grid-dispatch serve`.
    """
    from granian import Granian
    from granian.constants import Interfaces

    from dashboard.demo_users import warn_about_demo_accounts_at

    settings = settings_from_env(host=host, port=port)
    redis_url = settings.redis_url or _running_embedded(settings)
    _listen(settings.host, settings.port).close()  # fail now, not in every worker
    warn_about_demo_accounts_at(redis_url)
    click.echo(f"grid-dispatch http: {workers} worker(s) × {threads} thread(s) at "
               f"http://{settings.host}:{settings.port}/")
    os.environ["REDIS_URL"] = redis_url  # the workers read the same settings
    Granian("dashboard.wsgi:create", factory=True, interface=Interfaces.WSGI,
            address=settings.host, port=settings.port, workers=workers,
            blocking_threads=threads, websockets=False, log_access=False).serve()


def _running_embedded(settings) -> str:
    from dispatch.store.server import running_url

    url = running_url(settings.data_dir / "redis")
    if not url:
        raise click.UsageError(
            "set REDIS_URL to the Redis the site's processes share, or start `grid-dispatch "
            f"serve` on the data folder {settings.data_dir} first")
    return url


def _run(settings, *, demo: bool) -> None:
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.demo_users import ensure_demo_users, warn_about_demo_accounts
    from dashboard.demo_worker import ensure_demo_worker
    from dashboard.runtime import open_runtime

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("pyogrio").setLevel(logging.WARNING)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops the app even when a launcher started it with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    listener = _listen(settings.host, settings.port)  # before Redis is touched
    first = "" if settings.grids_file or _demo_cached(settings) else \
        " (first run builds the demo data)"
    click.echo(f"grid-dispatch: preparing grids and Redis{first}…")
    runtime = open_runtime(settings, create_key=demo, demo=demo)
    try:
        app = create_app(runtime=runtime)
        if not demo:
            warn_about_demo_accounts(runtime.auth)
        _start_workers(runtime, demo=demo)
        server = make_server(settings.host, settings.port, app.server, threaded=True,
                             request_handler=_KeepAliveHandler, fd=listener.fileno())
        listener.close()  # the server holds its own duplicate
        url = f"http://{settings.host}:{server.port}/"
        summary = runtime.grids.summary()
        click.echo(f"grid-dispatch {'demo' if demo else 'server'} ready in "
                   f"{time.monotonic() - started:.1f} s")
        origin = "synthetic demo geometry" if summary["synthetic"] else runtime.grids.source
        click.echo(f"  grids: {summary['counts']} ({origin})")
        shared = (f", owned by process {runtime.redis_owner.get('owner_pid')} "
                  f"({runtime.redis_owner.get('owner')})") if runtime.redis_owner else ""
        click.echo(f"  redis: {runtime.redis_url}{shared}")
        if demo:
            loaded = runtime.load_demo_roster()
            click.echo(f"  workers: {runtime.workers.count():,} on the roster"
                       + (" (synthetic demo roster, just loaded)" if loaded else ""))
            households = runtime.load_demo_households()
            click.echo(f"  households: {runtime.household_store.count():,} in the resident base"
                       + (" (synthetic, just loaded)" if households else ""))
            click.echo("  demo logins (user / password):")
            for name, _role, password in ensure_demo_users(runtime.auth):
                click.echo(f"    {name:<12} {password}")
            if found := ensure_demo_worker(runtime.auth, runtime.workers, grids=runtime.grids):
                name, _role, password = found
                click.echo(f"    {name:<12} {password}  (grid worker on the phone page; "
                           "not simulated)")
        click.echo(f"  open: {url}")
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\ngrid-dispatch: stopping")
    finally:
        runtime.close()


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a clear error before anything else has started."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; nothing was started "
            "(choose another --port or stop the program using it)") from exc
    return sock


def _demo_cached(settings) -> bool:
    from geo.catalog import demo_path
    from geo.demo import DemoSpec

    return demo_path(settings.cache_dir, DemoSpec(seed=settings.demo_seed)).exists()


class _RequestBody(LimitedStream):
    """One request's body and no more: reading past it would swallow the next request."""

    def read(self, size: int = -1) -> bytes:
        """Sized to what is left: werkzeug's drain asks for 10 MB after every response."""
        left = self.limit - self.tell()
        return super().read(min(size, left) if size >= 0 else -1)

    def on_disconnect(self, error: Exception | None = None) -> None:
        """A short body ends the connection; the app's own stream reports it to the app."""


class _CountingWriter:
    """The response stream, counting bytes so a body shorter than announced ends the
    connection instead of leaving the client waiting for the rest."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.written = raw, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        return self.raw.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


class _KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 so API clients and browsers reuse their connections.

    Werkzeug's handler assumes one request per connection: it always sends ``Connection:
    close`` and, after each response, drains whatever reaches the socket within 10 ms
    with a blocking ``rfile.read``, which on a reused connection is the client's next
    request. Here a request reads only its own body, and the connection stays open when
    both bodies are exactly framed.
    """

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle the body of a reused
    # connection waits for the client's delayed ACK (~40 ms a request).
    disable_nagle_algorithm = True
    idle_timeout = 15.0
    _keep_alive = False
    _status = 0
    _length: int | None = None

    def handle_one_request(self) -> None:
        if self._next_request_arrives():
            super().handle_one_request()
        else:
            self.close_connection = True

    def _next_request_arrives(self) -> bool:
        """Wait a while for the next request, so an idle connection does not hold its
        thread forever."""
        timeout = self.connection.gettimeout()
        self.connection.settimeout(self.idle_timeout)
        try:
            return bool(self.rfile.peek(1))
        except OSError:
            return False
        finally:
            self.connection.settimeout(timeout)

    def run_wsgi(self) -> None:
        length = self._body_length()
        if length is None:  # chunked or malformed: werkzeug's one-shot handling
            self.close_connection = True
            super().run_wsgi()
            return
        rfile, wfile = self.rfile, self.wfile
        self.rfile = body = _RequestBody(rfile, length)
        self.wfile = out = _CountingWriter(wfile)
        self._status, self._length = 0, None
        self._keep_alive = self.request_version == "HTTP/1.1" and not self.close_connection
        try:
            super().run_wsgi()
        finally:
            self.rfile, self.wfile, self._keep_alive = rfile, wfile, False
        if not body.is_exhausted or not self._framed(out.written):
            self.close_connection = True

    def _body_length(self) -> int | None:
        if "Transfer-Encoding" in self.headers:
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return length if length >= 0 else None

    def _framed(self, sent: int) -> bool:
        """Whether the body sent is exactly what the headers announced."""
        if self._length is None:  # chunked: werkzeug closes a broken stream itself
            return True
        bodiless = self.command == "HEAD" or self._status in (204, 304) or self._status < 200
        return sent == (0 if bodiless else self._length)

    def _keeps_alive(self) -> bool:
        """An HTTP/1.1 client that did not ask to close, and a request body read to its
        end: an unread body tells the client to reconnect rather than vanishing under it."""
        return self._keep_alive and not self.close_connection and \
            isinstance(self.rfile, _RequestBody) and self.rfile.is_exhausted

    def send_response(self, code: int, message: str | None = None) -> None:
        self._status = code
        super().send_response(code, message)

    def send_header(self, keyword: str, value: str) -> None:
        name = keyword.lower()
        if name == "connection" and value.lower() == "close" and self._keeps_alive():
            return
        if name == "content-length":
            try:
                self._length = int(value)
            except ValueError:
                self.close_connection = True
        super().send_header(keyword, value)

    def end_headers(self) -> None:
        super().end_headers()
        if isinstance(self.wfile, _CountingWriter):
            self.wfile.written = 0

    def connection_dropped(self, error: BaseException, environ: dict | None = None) -> None:
        """Gone, or taken over by a websocket: nothing more to read as HTTP."""
        self.close_connection = True


def _start_drills(runtime):
    """Fences checked each second for running musters; simulated drills played."""
    from dispatch.drills.conduct import DrillRunner, SimulationHost

    runner = DrillRunner(store=runtime.drill_store, lease=runtime.store.hold_lock,
                         muster=runtime.muster)
    runner.start()
    runtime.on_close(runner.stop)
    host = SimulationHost(store=runtime.drill_store, lease=runtime.store.hold_lock,
                          make=runtime.simulated_drill)
    host.start()
    runtime.on_close(host.stop)
    return host


def _start_workers(runtime, *, demo: bool) -> None:
    from dashboard.demo_worker import DEMO_WORKER
    from dispatch.events.escalator import Escalator
    from dispatch.simulate import Simulator
    from dispatch.simulate_workers import WorkerSimulator
    from dispatch.store.positions import PositionStore

    escalator = Escalator(events=runtime.events, store=runtime.store, tasks=runtime.tasks)
    escalator.start()
    runtime.on_close(escalator.stop)
    host = _start_drills(runtime)
    if demo:
        simulator = Simulator(grids=runtime.grids, intake=runtime.intake, events=runtime.events,
                              registry=runtime.devices, tasks=runtime.tasks,
                              recommender=runtime.recommender,
                              peak_per_minute=runtime.settings.demo_events_per_minute)
        simulator.start()
        runtime.on_close(simulator.stop)
        field = WorkerSimulator(grids=runtime.grids, workers=runtime.workers,
                                positions=PositionStore.of(runtime.store), tasks=runtime.tasks,
                                task_store=runtime.task_store, events=runtime.store.events,
                                clock=runtime.clock, reserved={DEMO_WORKER}, lent=host.lent)
        field.start()  # picks the roster up once the demo has loaded it
        runtime.on_close(field.stop)
