"""``grid-dispatch qr``: printable QR sheets for residents, one code per micro-grid."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("qr")
@click.option("--grid", "code", required=True, help="A micro, general or total grid code.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="FILE.pdf (every page) or FILE.png (one file per page).")
@click.option("--base-url", default="http://127.0.0.1:8050", show_default=True,
              help="Where residents' phones reach the app.")
@click.option("--grids", "grids_file", type=click.Path(path_type=Path, exists=True),
              default=None, help="Canonical grid file (default: the synthetic demo).")
def qr(code: str, out: Path, base_url: str, grids_file: Path | None) -> None:
    """Write the QR sheet for a grid; each code opens the report form for its micro-grid."""
    from dashboard.settings import Settings
    from dispatch.qr import FontMissingError, render_sheet
    from geo.catalog import demo_grid_set, load_grid_set
    from geo.grids import UnknownGridError

    grids = (load_grid_set(grids_file, synthetic=False) if grids_file
             else demo_grid_set(Settings().cache_dir))
    try:
        paths = render_sheet(grids, code, base_url=base_url, out=out)
    except UnknownGridError as exc:
        raise click.BadParameter(str(exc), param_hint="--grid") from exc
    except (FontMissingError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(path)
