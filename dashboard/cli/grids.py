"""``grids``: build, validate, import and query grid files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from dashboard.cli.common import main, settings_from_env
from geo.crs import CoordSystem


@main.group()
def grids() -> None:
    """Build, validate, import and query grid files."""


def _file_options(fn):
    fn = click.option("--tolerance", "tolerance_m", type=click.FloatRange(min=0), default=0.5,
                      show_default=True, metavar="M",
                      help="Gaps, overlaps and overhangs narrower than this many metres are "
                           "slivers: ignored, and closed in what import writes.")(fn)
    fn = click.option("--encoding", default=None,
                      help="Attribute encoding (default: the .cpg, else detected).")(fn)
    fn = click.option("--field", "fields", multiple=True, metavar="CANONICAL=SOURCE",
                      help="Map a canonical field (code, name, tier, parent_code, households, "
                           "residents) to the file's column. Repeatable.")(fn)
    fn = click.option("--coords", type=click.Choice([c.value for c in CoordSystem]),
                      default="wgs84", show_default=True,
                      help="Offset lon/lat system the coordinates are in.")(fn)
    fn = click.option("--crs", default=None,
                      help="CRS for a file that declares none, e.g. EPSG:4490.")(fn)
    fn = click.option("--layer", default=None, metavar="NAME",
                      help="Layer of a multi-layer file (GeoPackage).")(fn)
    return click.argument("file", type=click.Path(path_type=Path))(fn)


def _parse_fields(fields: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in fields:
        canonical, sep, source = item.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise click.BadParameter(f"{item!r} is not CANONICAL=SOURCE", param_hint="--field")
        out[canonical.strip()] = source.strip()
    return out


def _import(file, layer, crs, coords, fields, encoding, tolerance_m, *, nest):
    from geo.io import UnknownEncodingError, UnknownFieldError
    from geo.validate import import_grids

    try:
        return import_grids(file, layer=layer, crs=crs, coords=CoordSystem(coords),
                            fields=_parse_fields(fields), encoding=encoding,
                            tolerance_m=tolerance_m, nest=nest)
    except UnknownFieldError as exc:
        raise click.BadParameter(str(exc), param_hint="--field") from exc
    except UnknownEncodingError as exc:
        raise click.BadParameter(str(exc), param_hint="--encoding") from exc


def _report(result) -> None:
    if result.ok:
        counts = {t.value: n for t, n in result.counts.items()}
        click.echo(json.dumps({"ok": True, "counts": counts}, ensure_ascii=False))
        return
    for problem in result.problems:
        click.echo(str(problem))
    click.echo(f"{len(result.problems)} problem(s); nothing loaded", err=True)
    sys.exit(1)


@grids.command()
@_file_options
def validate(file, layer, crs, coords, fields, encoding, tolerance_m) -> None:
    """Check a grid file: counts per tier, or one line per problem (exit 1)."""
    _report(_import(file, layer, crs, coords, fields, encoding, tolerance_m, nest=False))


@grids.command("import")
@_file_options
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="Canonical GeoPackage to write (WGS-84, canonical fields, one layer).")
def import_(file, layer, crs, coords, fields, encoding, tolerance_m, out) -> None:
    """Validate a grid file and write the canonical grid; nothing is written when invalid."""
    from geo.io import write_grid_file

    result = _import(file, layer, crs, coords, fields, encoding, tolerance_m, nest=True)
    _report(result)
    write_grid_file(result.grids, out)
    click.echo(f"wrote {out}", err=True)


@grids.command("build-demo")
@click.option("--out", type=click.Path(path_type=Path), required=True)
@click.option("--seed", type=int, default=None, help="Generator seed (default 20220921).")
def build_demo_cmd(out: Path, seed: int | None) -> None:
    """Write the synthetic Pidu grid (147 / 638 / 5,965) to a GeoPackage."""
    from geo.demo import DemoSpec, build_demo
    from geo.io import write_grid_file

    spec = DemoSpec() if seed is None else DemoSpec(seed=seed)
    frame = build_demo(spec)
    write_grid_file(frame, out)
    counts = frame["tier"].value_counts().to_dict()
    micro = frame[frame["tier"] == "micro"]
    click.echo(json.dumps({"out": str(out), "seed": spec.seed, "counts": counts,
                           "households": int(micro["households"].sum()),
                           "residents": int(micro["residents"].sum()), "synthetic": True}))


@grids.command()
@click.argument("lon", type=float)
@click.argument("lat", type=float)
@click.option("--grids", "grids_file", type=click.Path(path_type=Path, exists=True), default=None,
              help="Canonical grid file (default: the server's, GRID_DISPATCH_GRIDS_FILE, "
                   "else the synthetic demo).")
def locate(lon: float, lat: float, grids_file: Path | None) -> None:
    """Print the micro, general and total grid and street of a WGS-84 point, as JSON."""
    from dashboard.runtime import grids_for
    from geo.locate import Locator

    settings = settings_from_env(**({"grids_file": grids_file} if grids_file else {}))
    grid_set = grids_for(settings)
    click.echo(json.dumps(Locator(grid_set).locate(lon, lat).as_dict(), ensure_ascii=False))
