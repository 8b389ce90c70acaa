"""Command-line intake channels: ``grid-dispatch import-12345 FILE`` for hotline exports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from geo.crs import CoordSystem

IMPORT_ACTOR = "import-12345"


@click.command("import-12345")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None,
              help="File format (default: from the file name, else from its content).")
@click.option("--coords", type=click.Choice([c.value for c in CoordSystem]), default="wgs84",
              show_default=True, help="Offset lon/lat system the export's coordinates are in.")
def import_12345(file: Path, fmt: str | None, coords: str) -> None:
    """Import a 12345 work-order export (CSV in UTF-8 or GBK, or JSON lines).

    The whole file is checked first: with any problem nothing is stored and each problem is
    printed on its own line (exit 1). Importing the same file again stores nothing twice.
    The events go to REDIS_URL, else to the embedded Redis of the data folder (the running
    app's, when one runs).
    """
    from dashboard.cli.common import settings_from_env
    from dashboard.runtime import open_runtime
    from dispatch.access.roles import Actor, Role
    from dispatch.channels.hotline.orders import HotlineImportError, import_orders
    from dispatch.events.intake import IntakeError

    runtime = open_runtime(settings_from_env(), warm=False)
    try:
        result = import_orders(file.read_bytes(), intake=runtime.intake,
                               locator=runtime.locator, fmt=fmt, filename=file.name,
                               orders=runtime.hotline_orders,
                               coords=CoordSystem(coords),
                               actor=Actor(name=IMPORT_ACTOR, role=Role.SYSTEM))
    except HotlineImportError as exc:
        _fail([str(p) for p in exc.problems])
    except IntakeError as exc:
        _fail([f"{p.field}: {p.message}" for p in exc.problems])
    finally:
        runtime.close()
    click.echo(json.dumps(result.as_dict(), ensure_ascii=False))


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)
    click.echo(f"{len(lines)} problem(s); nothing imported", err=True)
    sys.exit(1)
