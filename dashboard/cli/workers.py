"""``workers``: the grid-worker roster (the synthetic demo roster until a site imports its own)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from dashboard.cli.common import main, settings_from_env


@main.group()
def workers() -> None:
    """The grid-worker roster: leaders, roles, shifts."""


@workers.command()
@click.option("--at", "at", default=None, metavar="ISO",
              help="Moment for the duty counts, e.g. 2024-05-15T12:00 (naive = Chengdu time; "
                   "default now).")
def summary(at: str | None) -> None:
    """Print the roster's figures as JSON: workers, roles, leaders per tier, duty, unled grids.

    The roster stored in the site's Redis (``workers import``, or the demo's); before one is
    loaded, the synthetic demo roster for the site's grids, and ``source`` says which.
    """
    from dashboard.runtime import open_runtime
    from dispatch.workers.roster import LOCAL_TZ, demo_roster
    from dispatch.workers.roster import summary as roster_summary

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(LOCAL_TZ)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    settings = settings_from_env()
    runtime = open_runtime(settings, warm=False)
    try:
        roster, source = runtime.workers.all(), "stored"
        if not roster:
            roster = demo_roster(settings.cache_dir, runtime.grids, seed=settings.demo_seed)
            source = "demo roster (not loaded)"
        figures = roster_summary(roster, runtime.grids, at=when)
    finally:
        runtime.close()
    click.echo(json.dumps({"source": source, **figures}, ensure_ascii=False))
