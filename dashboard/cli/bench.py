"""``bench``: benchmarks that print JSON figures beside the baseline measured in the same run."""

from __future__ import annotations

import json

import click

from dashboard.cli.common import main, settings_from_env


@main.group()
def bench() -> None:
    """Benchmarks that print JSON figures beside the naive baseline measured in the same run."""


@bench.command("locate")
@click.option("--points", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def bench_locate(points: int, seed: int) -> None:
    """Points/s of the locator beside GeoPandas sjoin on the same points."""
    from bench.locate import run

    click.echo(json.dumps(run(settings_from_env(), points=points, seed=seed), indent=2))


@bench.command("payload")
def bench_payload() -> None:
    """Served bytes per tier (raw, gzip) beside GeoDataFrame.to_json(), and the position error."""
    from bench.payload import run

    click.echo(json.dumps(run(settings_from_env()), indent=2))


@bench.command("ingest")
@click.option("--batch-events", type=int, default=20_000, show_default=True)
@click.option("--single-events", type=int, default=3_000, show_default=True)
@click.option("--connections", type=int, default=2, show_default=True,
              help="Batches in flight at once (eight times as many single posts).")
@click.option("--workers", type=int, default=2, show_default=True,
              help="Processes of the `grid-dispatch http` server under test.")
@click.option("--threads", type=int, default=8, show_default=True,
              help="Request threads per process of that server.")
@click.option("--rounds", type=int, default=3, show_default=True,
              help="Rounds of both phases; the median round is the figure.")
@click.option("--chaos", is_flag=True,
              help="Kill redis-server with SIGKILL midway, restart it, count what was lost.")
def bench_ingest(batch_events: int, single_events: int, connections: int, workers: int,
                 threads: int, rounds: int, chaos: bool) -> None:
    """Events/s through `grid-dispatch http`'s batch and single endpoints beside raw XADD."""
    from bench.ingest import run

    click.echo(json.dumps(run(settings_from_env(), batch_events=batch_events,
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

    click.echo(json.dumps(run(settings_from_env(), clients=clients, rate=rate, seconds=seconds,
                              procs=procs, client=client), indent=2))


@bench.command("screen")
@click.option("--loads", type=click.IntRange(min=1), default=10, show_default=True,
              help="Page loads of a returning operator's browser (after one cold load).")
@click.option("--events", type=click.IntRange(min=1), default=100, show_default=True,
              help="Events posted one at a time, each timed until it is on the screen.")
def bench_screen(loads: int, events: int) -> None:
    """Map drawn and event-on-screen times in headless Chromium beside their floors."""
    from bench.screen import BrowserMissingError, run

    try:
        figures = run(settings_from_env(), loads=loads, events=events)
    except BrowserMissingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(figures, indent=2))


@bench.command("login")
@click.option("--attempts", type=click.IntRange(min=1), default=200, show_default=True,
              help="Timed sign-ins of each kind (known user, unknown user), alternating.")
@click.option("--seconds", type=click.FloatRange(min=0), default=60.0, show_default=True,
              help="How long each lockout phase keeps guessing (always past the limit).")
def bench_login(attempts: int, seconds: float) -> None:
    """Sign-in lockout and known-vs-unknown timing over HTTP beside the no-decoy baseline."""
    from bench.login import run

    click.echo(json.dumps(run(settings_from_env(), attempts=attempts, seconds=seconds),
                          indent=2))


@bench.command("assign")
@click.option("--seconds", type=click.FloatRange(min=0), default=15.0, show_default=True,
              help="How long recommendations are timed, one after another, while positions "
                   "move.")
@click.option("--naive-samples", type=click.IntRange(min=1), default=10, show_default=True,
              help="Full-scan rankings timed beside them.")
@click.option("--assignments", type=click.IntRange(min=1), default=10_000, show_default=True,
              help="Events assigned through the script (and as many plain writes).")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Threads assigning at once (and writing the plain baseline).")
@click.option("--contenders", type=click.IntRange(min=2), default=16, show_default=True,
              help="Threads assigning one event at the same moment.")
@click.option("--contended-events", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--fsync", type=click.Choice(["always", "everysec"]), default="always",
              show_default=True, help="appendfsync of the benchmark's Redis.")
def bench_assign(seconds: float, naive_samples: int, assignments: int, threads: int,
                 contenders: int, contended_events: int, fsync: str) -> None:
    """Recommendation latency under moving positions beside a full scan; assignments/s
    beside plain writes; one winner per contended event."""
    from bench.assign import run

    click.echo(json.dumps(run(settings_from_env(), seconds=seconds, naive_samples=naive_samples,
                              assignments=assignments, threads=threads, contenders=contenders,
                              contended_events=contended_events, fsync=fsync), indent=2))


@bench.command("positions")
@click.option("--seconds", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="How long reports are posted at --rate while the screen listens.")
@click.option("--rate", type=click.IntRange(min=1), default=746, show_default=True,
              help="Reports per second (746: every demo worker every 10 s).")
@click.option("--reports", type=click.IntRange(min=1), default=7461, show_default=True,
              help="Reports posted as fast as they go (7,461: every demo worker once).")
@click.option("--connections", type=click.IntRange(min=1), default=16, show_default=True,
              help="Keep-alive connections posting reports at once.")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes of the `grid-dispatch http` server the reports go to.")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Request threads per process of that server.")
def bench_positions(seconds: float, rate: int, reports: int, connections: int, workers: int,
                    threads: int) -> None:
    """Position reports/s through the HTTP API beside direct put_many; report-to-map latency
    at an operator's Socket.IO client."""
    from bench.positions import run

    click.echo(json.dumps(run(settings_from_env(), seconds=seconds, rate=rate, reports=reports,
                              connections=connections, workers=workers, threads=threads),
                          indent=2))


@bench.command("sweep")
@click.option("--scope", default="510117", show_default=True, metavar="CODE",
              help="The sweep's scope: the district (every micro-grid), a street or a grid.")
@click.option("--speed", type=click.FloatRange(1, 60), default=10, show_default=True,
              help="Time acceleration of the drill the reports are paced by.")
@click.option("--connections", type=click.IntRange(min=1), default=8, show_default=True,
              help="Keep-alive connections posting building batches at once.")
@click.option("--flood", type=click.IntRange(min=0), default=100_000, show_default=True,
              help="Households of a second sweep posted unpaced afterwards (0: none).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True,
              help="Processes of the `grid-dispatch http` server the reports go to.")
@click.option("--threads", type=click.IntRange(min=1), default=8, show_default=True,
              help="Request threads per process of that server.")
def bench_sweep(scope: str, speed: float, connections: int, flood: int, workers: int,
                threads: int) -> None:
    """A simulated household sweep through the HTTP API at --speed: households/s accepted,
    none lost, report-to-coordinator-screen latency, memory; beside raw pipelined writes."""
    from bench.sweep import run

    click.echo(json.dumps(run(settings_from_env(), scope=scope, speed=speed,
                              connections=connections, workers=workers, threads=threads,
                              flood=flood), indent=2))
