"""The ``grid-dispatch`` command line: run the app, manage grid files, run benchmarks."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from pathlib import Path

import click
from werkzeug.serving import WSGIRequestHandler

from geo.crs import CoordSystem


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grid dispatch centre for Pidu District's three-tier community grids."""


def _settings(**overrides):
    from dashboard.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8050).")
def demo(host: str | None, port: int | None) -> None:
    """Everything a visitor needs: embedded Redis, synthetic Pidu, the situation map."""
    _run(_settings(host=host, port=port), demo=True)


@main.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8050).")
def serve(host: str | None, port: int | None) -> None:
    """The same app without the demo simulators."""
    _run(_settings(host=host, port=port), demo=False)


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

    settings = _settings(host=host, port=port)
    if not settings.redis_url:
        raise click.UsageError("set REDIS_URL to the Redis the site's processes share")
    click.echo(f"grid-dispatch http: {workers} worker(s) × {threads} thread(s) at "
               f"http://{settings.host}:{settings.port}/")
    Granian("dashboard.wsgi:create", factory=True, interface=Interfaces.WSGI,
            address=settings.host, port=settings.port, workers=workers,
            blocking_threads=threads, websockets=False, log_access=False).serve()


def _run(settings, *, demo: bool) -> None:
    from werkzeug.serving import make_server

    from dashboard.app import create_app
    from dashboard.demo_users import ensure_demo_users
    from dashboard.runtime import open_runtime

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C stops the app even when a launcher started it with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    click.echo("grid-dispatch: preparing grids and Redis (first run builds the demo data)…")
    runtime = open_runtime(settings)
    try:
        app = create_app(runtime=runtime)
        _start_workers(runtime, demo=demo)
        server = make_server(settings.host, settings.port, app.server, threaded=True,
                             request_handler=_KeepAliveHandler)
        url = f"http://{settings.host}:{server.server_port}/"
        summary = runtime.grids.summary()
        click.echo(f"grid-dispatch {'demo' if demo else 'server'} ready in "
                   f"{time.monotonic() - started:.1f} s")
        origin = "synthetic demo geometry" if summary["synthetic"] else runtime.grids.source
        click.echo(f"  grids: {summary['counts']} ({origin})")
        click.echo(f"  redis: {runtime.redis_url}")
        if demo:
            click.echo("  demo logins (user / password):")
            for name, _role, password in ensure_demo_users(runtime.auth):
                click.echo(f"    {name:<12} {password}")
        click.echo(f"  open: {url}")
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\ngrid-dispatch: stopping")
    finally:
        runtime.close()


class _KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 so API clients and browsers reuse their connections."""

    protocol_version = "HTTP/1.1"


def _start_workers(runtime, *, demo: bool) -> None:
    from dispatch.devices import DeviceRegistry
    from dispatch.escalator import Escalator
    from dispatch.simulate import Simulator
    from dispatch.store.devices import DeviceStore

    escalator = Escalator(events=runtime.events, store=runtime.store)
    escalator.start()
    runtime.on_close(escalator.stop)
    if demo:
        registry = DeviceRegistry(store=DeviceStore.of(runtime.store), locator=runtime.locator,
                                  clock=runtime.clock)
        simulator = Simulator(grids=runtime.grids, intake=runtime.intake, events=runtime.events,
                              registry=registry,
                              peak_per_minute=runtime.settings.demo_events_per_minute)
        simulator.start()
        runtime.on_close(simulator.stop)


# --- users and tokens -------------------------------------------------------------------

def _auth():
    from dashboard.runtime import open_runtime

    settings = _settings()
    if not settings.redis_url:
        raise click.UsageError("set REDIS_URL to the server the app uses")
    runtime = open_runtime(settings, warm=False, load_grids=False)
    return runtime


@main.group()
def users() -> None:
    """People who sign in to the pages."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["operator", "leader", "coordinator", "admin", "worker"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display", default="", help="Name shown on screens.")
def users_add(name: str, role: str, password: str, display: str) -> None:
    """Create or replace a user (REDIS_URL names the server)."""
    from dispatch.models import Role

    runtime = _auth()
    try:
        runtime.auth.add_user(name, role=Role(role), password=password, display=display)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    finally:
        runtime.close()
    click.echo(f"user {name} ({role}) saved")


@main.group()
def tokens() -> None:
    """Bearer tokens for APIs, devices and integrations."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(
    ["operator", "admin", "worker", "integration", "device", "leader"]))
@click.option("--name", required=True, help="Who or what holds the token.")
def tokens_create(role: str, name: str) -> None:
    """Print a new token once; only its hash is stored."""
    from dispatch.models import Role

    runtime = _auth()
    try:
        click.echo(runtime.auth.create_token(name=name, role=Role(role)))
    finally:
        runtime.close()


# --- grids --------------------------------------------------------------------------------

@main.group()
def grids() -> None:
    """Build, validate, import and query grid files."""


def _file_options(fn):
    fn = click.option("--tolerance", "tolerance_m2", type=float, default=1.0, show_default=True,
                      help="Gaps and overlaps smaller than this many m² are ignored.")(fn)
    fn = click.option("--encoding", default=None,
                      help="Attribute encoding (default: the .cpg, else detected).")(fn)
    fn = click.option("--field", "fields", multiple=True, metavar="CANONICAL=SOURCE",
                      help="Map a canonical field (code, name, tier, parent_code, households, "
                           "residents) to the file's column. Repeatable.")(fn)
    fn = click.option("--coords", type=click.Choice([c.value for c in CoordSystem]),
                      default="wgs84", show_default=True,
                      help="Offset lon/lat system the coordinates are in.")(fn)
    fn = click.option("--crs", default=None,
                      help="CRS for a file that declares none, e.g. EPSG:4490.")(fn)
    fn = click.option("--layer", default=None, help="Layer of a multi-layer file (GeoPackage).")(fn)
    return click.argument("file", type=click.Path(path_type=Path))(fn)


def _parse_fields(fields: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in fields:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise click.BadParameter(f"{item!r} is not CANONICAL=SOURCE", param_hint="--field")
        out[canonical.strip()] = source.strip()
    return out


def _import(file, layer, crs, coords, fields, encoding, tolerance_m2):
    from geo.io import UnknownFieldError
    from geo.validate import import_grids

    try:
        return import_grids(file, layer=layer, crs=crs, coords=CoordSystem(coords),
                            fields=_parse_fields(fields), encoding=encoding,
                            tolerance_m2=tolerance_m2)
    except UnknownFieldError as exc:
        raise click.BadParameter(str(exc), param_hint="--field") from exc


def _report(result) -> None:
    if result.ok:
        counts = {t.value: n for t, n in result.counts.items()}
        click.echo(json.dumps({"ok": True, "counts": counts}, ensure_ascii=False))
        return
    for problem in result.problems:
        click.echo(str(problem))
    click.echo(f"{len(result.problems)} problem(s); nothing loaded", err=True)
    sys.exit(1)


@grids.command()
@_file_options
def validate(file, layer, crs, coords, fields, encoding, tolerance_m2) -> None:
    """Check a grid file: counts per tier, or one line per problem (exit 1)."""
    _report(_import(file, layer, crs, coords, fields, encoding, tolerance_m2))


@grids.command("import")
@_file_options
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Canonical GeoPackage to write (WGS-84, canonical fields, one layer).")
def import_(file, layer, crs, coords, fields, encoding, tolerance_m2, out) -> None:
    """Validate a grid file and write the canonical grid; nothing is written when invalid."""
    from geo.io import write_grid_file

    result = _import(file, layer, crs, coords, fields, encoding, tolerance_m2)
    _report(result)
    write_grid_file(result.grids, out)
    click.echo(f"wrote {out}", err=True)


@grids.command("build-demo")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--seed", type=int, default=None, help="Generator seed (default 20220921).")
def build_demo_cmd(out: Path, seed: int | None) -> None:
    """Write the synthetic Pidu grid (147 / 638 / 5,965) to a GeoPackage."""
    from geo.demo import DemoSpec, build_demo
    from geo.io import write_grid_file

    spec = DemoSpec() if seed is None else DemoSpec(seed=seed)
    frame = build_demo(spec)
    write_grid_file(frame, out)
    counts = frame["tier"].value_counts().to_dict()
    micro = frame[frame["tier"] == "micro"]
    click.echo(json.dumps({"out": str(out), "seed": spec.seed, "counts": counts,
                           "households": int(micro["households"].sum()),
                           "residents": int(micro["residents"].sum()), "synthetic": True}))


@grids.command()
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@click.option("--grids", "grids_file", type=click.Path(path_type=Path, exists=True), default=None,
              help="Canonical grid file (default: the synthetic demo).")
def locate(lon: float, lat: float, grids_file: Path | None) -> None:
    """Print the micro, general and total grid and street of a WGS-84 point, as JSON."""
    from geo.catalog import demo_grid_set, load_grid_set
    from geo.locate import Locator

    settings = _settings()
    grid_set = (load_grid_set(grids_file, synthetic=False) if grids_file
                else demo_grid_set(settings.cache_dir))
    click.echo(json.dumps(Locator(grid_set).locate(lon, lat).as_dict(), ensure_ascii=False))


# --- bench --------------------------------------------------------------------------------

@main.group()
def bench() -> None:
    """Benchmarks that print JSON figures beside the naive baseline measured in the same run."""


@bench.command("locate")
@click.option("--points", type=int, default=1_000_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def bench_locate(points: int, seed: int) -> None:
    """Points/s of the locator beside GeoPandas sjoin on the same points."""
    from bench.locate import run

    click.echo(json.dumps(run(_settings(), points=points, seed=seed), indent=2))


@bench.command("payload")
def bench_payload() -> None:
    """Served bytes per tier (raw, gzip) beside GeoDataFrame.to_json(), and the position error."""
    from bench.payload import run

    click.echo(json.dumps(run(_settings()), indent=2))


@bench.command("ingest")
@click.option("--batch-events", type=int, default=20_000, show_default=True)
@click.option("--single-events", type=int, default=3_000, show_default=True)
@click.option("--connections", type=int, default=2, show_default=True,
              help="Batches in flight at once (eight times as many single posts).")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Processes for --server http.")
@click.option("--threads", type=int, default=8, show_default=True,
              help="Request threads per process for --server http.")
@click.option("--rounds", type=int, default=3, show_default=True,
              help="Rounds of both phases; the median round is the figure.")
@click.option("--chaos", is_flag=True,
              help="Kill redis-server with SIGKILL midway, restart it, count what was lost.")
def bench_ingest(batch_events: int, single_events: int, connections: int, workers: int,
                 threads: int, rounds: int, chaos: bool) -> None:
    """Events/s through `grid-dispatch http`'s batch and single endpoints beside raw XADD."""
    from bench.ingest import run

    click.echo(json.dumps(run(_settings(), batch_events=batch_events,
                              single_events=single_events, connections=connections,
                              workers=workers, threads=threads, rounds=rounds,
                              chaos=chaos),
                          indent=2))


@bench.command("fanout")
@click.option("--clients", type=int, default=50, show_default=True)
@click.option("--rate", type=int, default=2000, show_default=True, help="Events per second.")
@click.option("--seconds", type=float, default=10.0, show_default=True)
@click.option("--procs", type=int, default=2, show_default=True,
              help="Client processes the Socket.IO clients are spread over.")
@click.option("--client", type=click.Choice(["light", "socketio"]), default="light",
              show_default=True, help="Lean websocket listener, or python-socketio's client.")
def bench_fanout(clients: int, rate: int, seconds: float, procs: int, client: str) -> None:
    """p50/p99 latency from accepted to received at real Socket.IO clients."""
    from bench.fanout import run

    click.echo(json.dumps(run(_settings(), clients=clients, rate=rate, seconds=seconds,
                              procs=procs, client=client), indent=2))


def _register_channel_commands() -> None:
    from dashboard.cli_channels import import_12345
    from dashboard.cli_qr import qr

    main.add_command(import_12345, "import-12345")
    main.add_command(qr)


_register_channel_commands()

if __name__ == "__main__":
    main()
