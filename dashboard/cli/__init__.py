"""The ``grid-dispatch`` command line: a module per command group, one shared entry point."""

from __future__ import annotations

from dashboard.cli import (  # noqa: F401 - registers
    admin,
    audit,
    bench,
    channels,
    drills,
    events,
    fuzz,
    grids,
    households,
    qr,
    run,
    workers,
    workers_import,
)
from dashboard.cli.common import main

main.add_command(channels.import_12345, "import-12345")
main.add_command(qr.qr)

__all__ = ["main"]
