"""``grid-dispatch qr``: printable QR sheets for residents, one code per micro-grid."""

from __future__ import annotations

from pathlib import Path

import click

DEFAULT_BASE_URL = "http://127.0.0.1:8050"


@click.command("qr")
@click.option("--grid", "code", required=True, help="A micro, general or total grid code.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="FILE.pdf (every page), or FILE.png (FILE-1.png, FILE-2.png … when the "
                   "sheet has several pages).")
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              help="Where residents' phones reach the app (printed into every code).")
@click.option("--grids", "grids_file", type=click.Path(path_type=Path, exists=True),
              default=None, help="Canonical grid file (default: the synthetic demo).")
def qr(code: str, out: Path, base_url: str, grids_file: Path | None) -> None:
    """Write the QR sheet for a grid; each code opens the report form for its micro-grid."""
    from dashboard.settings import Settings
    from dispatch.qr import BaseUrlError, SheetFormatError, render_sheet
    from dispatch.qr_fonts import FontMissingError
    from geo.catalog import demo_grid_set, load_grid_set
    from geo.grids import UnknownGridError

    if out.suffix.lower() not in (".pdf", ".png"):
        raise click.BadParameter(f"{out.name!r} must end in .pdf or .png", param_hint="--out")
    grids = (load_grid_set(grids_file, synthetic=False) if grids_file
             else demo_grid_set(Settings().cache_dir))
    try:
        paths = render_sheet(grids, code, base_url=base_url, out=out)
    except UnknownGridError as exc:
        raise click.BadParameter(str(exc), param_hint="--grid") from exc
    except BaseUrlError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from exc
    except (FontMissingError, SheetFormatError) as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(path)
