"""``workers import FILE``: load a site's grid-worker roster from CSV, all of it or nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dashboard.cli.workers import workers

IMPORT_ACTOR = "workers-import"


@workers.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print what would be loaded; "
                                              "store nothing.")
def import_roster(file: Path, dry_run: bool) -> None:
    """Replace the roster with a CSV file (UTF-8 or GBK) checked against the site's grids.

    With any problem nothing is stored: each is printed on stderr as
    ``line N, FIELD: message (got 'VALUE')`` and the command exits 1. Otherwise the whole
    roster is replaced at once and recorded in the change stream.
    """
    from dashboard.cli.common import settings_from_env
    from dashboard.runtime import open_runtime
    from dispatch.access.roles import Role
    from dispatch.store.workers import WorkerStore
    from dispatch.workers.importer import RosterImportError, read_roster
    from dispatch.workers.models import WorkerKind

    runtime = open_runtime(settings_from_env(), warm=False)
    try:
        try:
            roster = read_roster(file.read_bytes(), grids=runtime.grids)
        except RosterImportError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(exc.problems)} problem(s); nothing loaded", err=True)
            sys.exit(1)
        if not dry_run:
            WorkerStore.of(runtime.store).replace_all(roster, actor=IMPORT_ACTOR,
                                                      role=Role.SYSTEM.value)
    finally:
        runtime.close()
    professional = sum(w.kind is WorkerKind.PROFESSIONAL for w in roster)
    verb = "would be loaded (dry run; nothing stored)" if dry_run else "loaded"
    click.echo(f"{len(roster)} workers {verb} ({professional} professional, "
               f"{len(roster) - professional} mobilised)")
