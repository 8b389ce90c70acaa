"""``audit export`` and ``keys create``: the audit trail written out, and the data key made.

The export holds who did what to which event or account, when and why; never the personal
data itself (free-text reasons are scrubbed on the way out). Writing it out is itself audited.
"""

from __future__ import annotations

import contextlib
import csv
import getpass
import json
import sys
from pathlib import Path
from typing import TextIO

import click

from dashboard.cli.common import main, settings_from_env

COLUMNS = ("seq", "stream", "at", "time", "actor", "role", "action", "target", "field",
           "reason", "change", "count")


@main.group()
def audit() -> None:
    """The audit trail: reads of personal data, reveals, exports, and every change."""


@audit.command("export")
@click.option("--since", default=None, help="From this time (ISO 8601, Beijing time if no "
              "offset, or epoch seconds); default: the beginning.")
@click.option("--until", default=None, help="Up to this time; default: now.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv",
              show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--changes/--no-changes", default=True, show_default=True,
              help="Merge the change stream (every event and account change) in.")
def export(since: str | None, until: str | None, fmt: str, output: Path | None,
           changes: bool) -> None:
    """Write the audit trail in time order, as CSV or JSON lines."""
    from dashboard.runtime import open_runtime
    from dispatch.access.roles import Actor, Role
    from dispatch.privacy.audit import AuditAction
    from dispatch.privacy.scrub import scrub

    start, end = when(since, "--since"), when(until, "--until")
    runtime = open_runtime(settings_from_env(), warm=False, load_grids=False)
    try:
        log = runtime.audit
        rows = list(log.export(since=start or 0.0, until=end, changes=changes))
        for row in rows:
            row["reason"] = scrub(row["reason"])
            row["time"] = _iso(row["at"])
        target = str(output) if output else "stdout"
        log.record(AuditAction.EXPORT, actor=Actor(f"cli:{getpass.getuser()}", Role.SYSTEM),
                   target=target, count=len(rows))
    finally:
        runtime.close()
    with open_output(output) as fh:
        if fmt == "csv":
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        else:
            for row in rows:
                fh.write(json.dumps({k: row.get(k, "") for k in COLUMNS},
                                    ensure_ascii=False) + "\n")
    if output:
        click.echo(f"{len(rows)} entries written to {output}", err=True)


def when(raw: str | None, option: str) -> float | None:
    from dispatch import localtime

    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        return localtime.parse(raw).timestamp()
    except ValueError:
        raise click.BadParameter(f"{raw!r} is neither epoch seconds nor ISO 8601",
                                 param_hint=option) from None


def _iso(at: float) -> str:
    from dispatch import localtime

    return localtime.iso(at) if at else ""


def open_output(output: Path | None) -> contextlib.AbstractContextManager[TextIO]:
    """The file to write, or standard output (left open)."""
    if output is None:
        return contextlib.nullcontext(sys.stdout)
    return open(output, "w", encoding="utf-8", newline="")


@main.group()
def keys() -> None:
    """The data key that seals personal data at rest."""


@keys.command("create")
@click.option("--file", "key_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write it (default: GRID_DISPATCH_KEY_FILE, else "
              "data.key in the data folder). An existing file is never overwritten.")
@click.option("--print", "show", is_flag=True,
              help="Print a new key instead, for GRID_DISPATCH_DATA_KEY or a secret store.")
def create_key(key_file: Path | None, show: bool) -> None:
    """Make the site's data key (once; keep it, and back it up apart from Redis)."""
    from dispatch.privacy.vault import load_keys, new_key

    if show:
        click.echo(new_key())
        return
    path = key_file or settings_from_env().data_key_file
    if path.exists():
        raise click.ClickException(f"{path} exists; a new key would make sealed data "
                                   "unreadable. To rotate, put the new key first in the file "
                                   "and keep the old one below it.")
    load_keys(env_value=None, key_file=path, create=True)
    click.echo(f"data key written to {path} (mode 600)")
