"""``households``: the resident base (居民户) a sweep works through, sealed in the site's Redis."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dashboard.cli.common import main, settings_from_env

#: Exit status when the file has problems (nothing is loaded).
PROBLEMS_EXIT = 2


@main.group()
def households() -> None:
    """The household base: households by micro-grid and building, special populations."""


@households.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print its figures; store "
                                              "nothing.")
def import_households(file: Path, dry_run: bool) -> None:
    """Replace the household base with a CSV file checked against the site's grids.

    Columns ``micro,building,address,head,phone,members,tags`` in any order (phone and tags
    may be left out; tags separated by ``;``, as values or Chinese labels). With any problem
    nothing is stored: each is printed on stderr as ``line N, FIELD: message (got 'VALUE')``
    and the command exits 2. Otherwise prints the loaded base's figures as JSON.
    """
    from dashboard.runtime import open_runtime
    from dispatch.households.base import HouseholdBase
    from dispatch.households.importer import HouseholdImportError, read_households
    from dispatch.households.table import HouseholdTable
    from dispatch.store.households import HouseholdStore

    runtime = open_runtime(settings_from_env(), warm=False)
    try:
        try:
            table = HouseholdTable.of(read_households(file.read_bytes(), grids=runtime.grids))
        except HouseholdImportError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(exc.problems)} problem(s); nothing loaded", err=True)
            sys.exit(PROBLEMS_EXIT)
        if not dry_run:
            HouseholdBase(store=HouseholdStore.of(runtime.store),
                          vault=runtime.vault).load(table)
    finally:
        runtime.close()
    click.echo(json.dumps({"loaded": not dry_run, **table.summary()}, ensure_ascii=False))


@households.command()
def summary() -> None:
    """Print the household base's figures as JSON: households, micro-grids, buildings,
    special-population households and each tag's count.

    The base stored in the site's Redis; before one is loaded, the synthetic demo base for
    the site's grids and seed, and ``source`` says which.
    """
    from dashboard.runtime import open_runtime
    from dispatch.households.base import HouseholdBase
    from dispatch.households.demo import demo_table
    from dispatch.store.households import HouseholdStore

    settings = settings_from_env()
    runtime = open_runtime(settings, warm=False)
    try:
        store = HouseholdStore.of(runtime.store)
        if store.count():
            figures = HouseholdBase(store=store, vault=runtime.vault).summary()
            source = "stored"
        else:
            figures = demo_table(settings.cache_dir, runtime.grids,
                                 seed=settings.demo_seed).summary()
            source = "demo base (not loaded)"
    finally:
        runtime.close()
    click.echo(json.dumps({"source": source, **figures}, ensure_ascii=False))
