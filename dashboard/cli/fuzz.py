"""``fuzz``: property-based checks of the running app against its own OpenAPI document."""

from __future__ import annotations

import json

import click

from dashboard.cli.common import main, settings_from_env


@main.group()
def fuzz() -> None:
    """Generated requests against a fresh server, checked against the served documents."""


@fuzz.command("api")
@click.option("--examples", type=click.IntRange(min=1), default=200, show_default=True,
              help="Generated cases per operation in the fuzzing phase (the coverage and "
                   "stateful phases add their own).")
@click.option("--seed", type=int, default=20_221_021, show_default=True)
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Operations tested at once.")
@click.option("--stateful/--no-stateful", default=True, show_default=True,
              help="Also chain calls (a created event read, moved, listed).")
def fuzz_api(examples: int, seed: int, workers: int, stateful: bool) -> None:
    """Schemathesis over every operation of /openapi.json with every check, on
    `grid-dispatch serve` and a fresh embedded Redis; JSON figures, exit 1 on any failure."""
    from bench.fuzz import FuzzerMissingError, run

    try:
        figures = run(settings_from_env(), examples=examples, seed=seed, stateful=stateful,
                      workers=workers)
    except FuzzerMissingError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(figures, indent=2, ensure_ascii=False))
    if figures["server_errors"] or figures["conformance_failures"] or figures["errors"]:
        raise SystemExit(1)
