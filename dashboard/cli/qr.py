"""``grid-dispatch qr``: printable QR sheets for residents, one code per micro-grid."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

import click

from dashboard.cli.common import settings_from_env


@click.command("qr")
@click.option("--grid", "code", required=True, help="A micro, general or total grid code.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="FILE.pdf (every page), or FILE.png (FILE-1.png, FILE-2.png … when the "
                   "sheet has several pages).")
@click.option("--base-url", default=None,
              help="Where residents' phones reach the app, printed into every code "
                   "(default: GRID_DISPATCH_PUBLIC_URL).")
@click.option("--grids", "grids_file", type=click.Path(path_type=Path, exists=True),
              default=None, help="Canonical grid file (default: the server's, "
                                 "GRID_DISPATCH_GRIDS_FILE, else the synthetic demo).")
@click.option("--test", "for_test", is_flag=True,
              help="Allow a loopback base URL: a sheet for trying the form on this machine.")
def qr(code: str, out: Path, base_url: str | None, grids_file: Path | None,
       for_test: bool) -> None:
    """Write the QR sheet for a grid; each code opens the report form for its micro-grid."""
    from dashboard.runtime import grids_for
    from dispatch.channels.resident.fonts import FontMissingError
    from dispatch.channels.resident.qr import BaseUrlError, SheetFormatError, render_sheet
    from geo.grids import UnknownGridError

    if out.suffix.lower() not in (".pdf", ".png"):
        raise click.BadParameter(f"{out.name!r} must end in .pdf or .png", param_hint="--out")
    settings = settings_from_env(**({"grids_file": grids_file} if grids_file else {}))
    base_url = _checked_base(base_url or settings.public_url, for_test=for_test)
    try:
        paths = render_sheet(grids_for(settings), code, base_url=base_url, out=out)
    except UnknownGridError as exc:
        raise click.BadParameter(str(exc), param_hint="--grid") from exc
    except BaseUrlError as exc:
        raise click.BadParameter(str(exc), param_hint="--base-url") from exc
    except (FontMissingError, SheetFormatError) as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(path)


def _checked_base(base_url: str | None, *, for_test: bool) -> str:
    """A base URL a resident's phone can reach; a loopback one only for a test sheet."""
    if not base_url:
        raise click.UsageError(
            "no public address to print: set GRID_DISPATCH_PUBLIC_URL (the address residents' "
            "phones reach, e.g. https://gd.example.cn) or pass --base-url")
    if is_loopback(base_url) and not for_test:
        raise click.BadParameter(
            f"{base_url!r} is only reachable from this machine, so a resident's phone cannot "
            "open it; give the public address, or add --test for a sheet to try locally",
            param_hint="--base-url")
    return base_url


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified
