"""``events export``: events for a report or another office, as CSV or JSON lines.

An export leaves the centre, so it carries what the public may see: the scrubbed text, no
reporter. Writing one is recorded in the audit trail.
"""

from __future__ import annotations

import csv
import getpass
import json
from pathlib import Path

import click

from dashboard.cli.audit import open_output, when
from dashboard.cli.common import main, settings_from_env

COLUMNS = ("id", "status", "source", "category", "category_name", "severity", "street",
           "street_name", "micro", "lon", "lat", "address", "description", "created", "updated",
           "due", "overdue", "escalation", "count")


@main.group()
def events() -> None:
    """Events as the centre holds them."""


@events.command("export")
@click.option("--since", default=None, help="Created from (ISO 8601 or epoch seconds).")
@click.option("--until", default=None, help="Created up to.")
@click.option("--street", default=None, help="One street's events (its code).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--with-drills", is_flag=True,
              help="Include events raised by drills (left out by default: they are exercises).")
def export(since: str | None, until: str | None, street: str | None, fmt: str,
           output: Path | None, with_drills: bool) -> None:
    """Write events with their public text: phones, e-mail, ID numbers and house-level
    addresses scrubbed, no reporter. Drill events are left out unless asked for."""
    from dashboard.runtime import open_runtime
    from dispatch.access.roles import Actor, Role
    from dispatch.events.service import EventFilter
    from dispatch.privacy.audit import AuditAction

    runtime = open_runtime(settings_from_env(), warm=False)
    try:
        if street and street not in runtime.grids.street_codes:
            raise click.BadParameter(f"{street!r} is not a known street code",
                                     param_hint="--street")
        flt = EventFilter(since=when(since, "--since"), until=when(until, "--until"),
                          street=street, limit=10_000_000,
                          exercise=None if with_drills else False)
        rows = [_row(v) for v in runtime.events.list(flt)]
        runtime.audit.record(AuditAction.EXPORT, actor=Actor(f"cli:{getpass.getuser()}",
                                                             Role.SYSTEM),
                             target=str(output or "stdout"), field="events", count=len(rows))
    finally:
        runtime.close()
    with open_output(output) as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    if output:
        click.echo(f"{len(rows)} events written to {output}", err=True)


def _row(view: dict) -> dict:
    from dispatch import localtime

    grid, loc = view["grid"], view["location"]
    return {"id": view["id"], "status": view["status"], "source": view["source"],
            "category": view["category"]["code"], "category_name": view["category"]["name"],
            "severity": view["severity"], "street": grid["street"],
            "street_name": grid["street_name"], "micro": grid["micro"], "lon": loc["lon"],
            "lat": loc["lat"], "address": loc["address"], "description": view["description"],
            "created": localtime.iso(view["created_at"]),
            "updated": localtime.iso(view["updated_at"]),
            "due": localtime.iso(view["due_at"]) if view["due_at"] else "",
            "overdue": view["overdue"], "escalation": view["escalation"]["tier"],
            "count": view["count"]}
