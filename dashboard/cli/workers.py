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
    """Print the roster's figures as JSON: workers, roles, leaders per tier, duty, unled grids."""
    from dashboard.runtime import grids_for
    from dispatch.workers.roster import LOCAL_TZ, demo_roster
    from dispatch.workers.roster import summary as roster_summary

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(LOCAL_TZ)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    settings = settings_from_env()
    grid_set = grids_for(settings)
    roster = demo_roster(settings.cache_dir, grid_set, seed=settings.demo_seed)
    click.echo(json.dumps(roster_summary(roster, grid_set, at=when), ensure_ascii=False))
