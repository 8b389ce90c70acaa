"""Reading grid files as they come from the field, and writing the canonical frame.

Real grid files are GeoJSON, GeoPackage or Shapefile, in WGS-84, CGCS2000 (geographic or
Gauss-Krüger) or traced over offset web maps, with Chinese or truncated field names and, for
Shapefiles, often a GBK table with nothing saying so. Everything becomes one canonical frame.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError

from geo.crs import CoordSystem, project, to_wgs84
from geo.encoding import UnknownEncodingError, check_encoding, shapefile_encoding
from geo.model import CANONICAL_FIELDS, COUNT_FIELDS, WGS84, Tier, parse_tier

#: The one layer of a canonical GeoPackage.
LAYER = "grids"
#: GeoPackages record the time they were written; a fixed one makes output reproducible.
FIXED_GDAL_DATE = "2000-01-01T00:00:00.000Z"
#: Edges of projected files are densified to this before reprojection, so that a vertex lying
#: on a neighbour's straight edge in the file still lies on it in lon/lat.
DENSIFY_M = 100.0
_HAS_ARROW = importlib.util.find_spec("pyarrow") is not None
_INTEGRAL_TEXT = re.compile(r"([+-]?\d+)\.0*")
_READ_ERRORS = (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, ValueError)

__all__ = [
    "FIXED_GDAL_DATE",
    "LAYER",
    "FileErrorKind",
    "GridFileError",
    "UnknownEncodingError",
    "UnknownFieldError",
    "load_canonical",
    "read_grid_file",
    "text_value",
    "write_grid_file",
]


class FileErrorKind(StrEnum):
    """Why a grid file gave nothing to validate."""

    UNREADABLE = "unreadable"
    MISSING_FIELD = "missing-field"


class GridFileError(Exception):
    """A grid file that cannot be turned into a canonical frame."""

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str],
        kind: FileErrorKind,
        fields: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path)
        self.kind = FileErrorKind(kind)
        #: The field names at fault, for missing-field errors.
        self.fields = fields

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class UnknownFieldError(ValueError):
    """A field mapping keyed by a name that is not a canonical field."""

    def __init__(self, field: str) -> None:
        allowed = ", ".join((*CANONICAL_FIELDS, *COUNT_FIELDS))
        super().__init__(f"{field!r} is not a canonical field (one of {allowed})")
        self.field = field


def text_value(value: object) -> str:
    """A cell as text: None/NaN become "", numbers read from numeric fields lose their ".0"."""
    if value is None or (not isinstance(value, str) and _is_missing(value)):
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    text = str(value).strip()
    match = _INTEGRAL_TEXT.fullmatch(text)
    return match.group(1) if match else text


def read_grid_file(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    crs: str | None = None,
    coords: CoordSystem = CoordSystem.WGS84,
    fields: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """The canonical frame (WGS-84 lon/lat) of a GeoJSON, GeoPackage or Shapefile grid file.

    ``fields`` maps canonical names to the file's own (``{"code": "网格编码"}``); ``crs``
    declares the CRS of a file that has none; ``coords`` names the offset datum the lon/lat
    were traced in; ``encoding`` overrides the Shapefile text encoding.
    """
    path = Path(path)
    check_encoding(encoding)
    layer = _pick_layer(path, layer)
    raw = _read_raw(path, layer=layer, encoding=encoding or shapefile_encoding(path))
    raw = _reproject(raw, path=path, declared=crs)
    if CoordSystem(coords) is not CoordSystem.WGS84:
        raw = raw.set_geometry(to_wgs84(raw.geometry.values, coords), crs=WGS84)
    return _canonical(raw, path=path, fields=fields or {})


def write_grid_file(gdf: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a canonical frame as a one-layer GeoPackage, atomically and byte-reproducibly.

    The same frame always gives the same bytes, so a re-import that changes nothing changes no
    file, and readers never see a half-written one.
    """
    path = Path(path)
    frame = _writable(gdf)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp.gpkg")
    try:
        with _fixed_gdal_date():
            pyogrio.write_dataframe(frame, tmp, layer=LAYER, driver="GPKG")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_canonical(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read back a file written by :func:`write_grid_file`, skipping all the import work.

    Any other file (a raw export that never went through ``grids import``) is refused with what
    it lacks, since nothing here would check it.
    """
    path = Path(path)
    _check_canonical(path)
    try:
        gdf = pyogrio.read_dataframe(path, layer=LAYER, use_arrow=_HAS_ARROW)
    except _READ_ERRORS as exc:
        raise GridFileError(str(exc), path=path, kind=FileErrorKind.UNREADABLE) from exc
    for column in ("code", "name", "tier", "parent_code"):
        gdf[column] = gdf[column].fillna("").astype(str)
    for column in COUNT_FIELDS:
        gdf[column] = gdf[column].fillna(0).astype("int64")
    tiers = sorted(set(gdf["tier"]) - {tier.value for tier in Tier})
    if tiers:
        raise _not_canonical(path, [f"tier values {', '.join(map(repr, tiers))}"])
    return gdf


def _check_canonical(path: Path) -> None:
    """Refuse a file that is not a GeoPackage with a WGS-84 layer of the canonical fields."""
    if not path.exists():
        raise GridFileError("no such file", path=path, kind=FileErrorKind.UNREADABLE)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        info = pyogrio.read_info(path, layer=LAYER) if LAYER in layers else None
    except _READ_ERRORS as exc:
        raise GridFileError(
            f"not a readable GIS file ({exc})", path=path, kind=FileErrorKind.UNREADABLE
        ) from exc
    if info is None:
        raise _not_canonical(path, [f"no layer {LAYER!r} (layers: {', '.join(layers) or 'none'})"])
    lacks = []
    if info["driver"] != "GPKG":
        lacks.append(f"a {info['driver']} file, not a GeoPackage")
    absent = [f for f in (*CANONICAL_FIELDS, *COUNT_FIELDS) if f not in set(info["fields"])]
    if absent:
        lacks.append(f"no field(s) {', '.join(absent)}")
    if not _is_wgs84(info["crs"]):
        lacks.append(f"CRS {info['crs'] or 'none'}, not WGS-84")
    if lacks:
        raise _not_canonical(path, lacks, fields=tuple(absent))


def _is_wgs84(crs: str | None) -> bool:
    try:
        found = pyproj.CRS.from_user_input(crs) if crs else None
    except pyproj.exceptions.CRSError:
        return False
    return found is not None and found.equals(WGS84, ignore_axis_order=True)


def _not_canonical(path: Path, lacks: list[str], *, fields: tuple[str, ...] = ()) -> GridFileError:
    return GridFileError(
        f"not a canonical grid file: {'; '.join(lacks)}. Run "
        f"`grid-dispatch grids import {path} --out OUT.gpkg` first, then use OUT.gpkg",
        path=path,
        kind=FileErrorKind.UNREADABLE,
        fields=fields,
    )


def _is_missing(value: Any) -> bool:
    # Any, not object: pandas-stubs types pd.isna for scalars, arrays and frames only.
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _pick_layer(path: Path, layer: str | None) -> str:
    if not path.exists():
        raise GridFileError("no such file", path=path, kind=FileErrorKind.UNREADABLE)
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(path)]
    except _READ_ERRORS as exc:
        raise GridFileError(
            f"not a readable GIS file ({exc})", path=path, kind=FileErrorKind.UNREADABLE
        ) from exc
    listed = ", ".join(names) or "none"
    if layer is not None and layer not in names:
        raise GridFileError(
            f"no layer {layer!r}; layers: {listed}", path=path, kind=FileErrorKind.UNREADABLE
        )
    if layer is None and not names:
        raise GridFileError("has no layers", path=path, kind=FileErrorKind.UNREADABLE)
    if layer is None and len(names) > 1:
        raise GridFileError(
            f"has {len(names)} layers ({listed}); choose one with --layer NAME",
            path=path,
            kind=FileErrorKind.UNREADABLE,
        )
    return layer or names[0]


def _read_raw(path: Path, *, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    """The layer's fields as GDAL gives them, text kept as text.

    pyogrio.read_dataframe JSON-decodes GeoJSON properties of mixed type, which turns a text
    code "51011700100101001" into a float and loses its last digits; the raw reader does not.
    """
    try:
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer, encoding=encoding)
    except _READ_ERRORS as exc:
        raise GridFileError(
            f"cannot read layer {layer!r} ({exc})", path=path, kind=FileErrorKind.UNREADABLE
        ) from exc
    data = {str(name): values for name, values in zip(meta["fields"], columns, strict=True)}
    if wkb is None:
        wkb = np.full(len(columns[0]) if len(columns) else 0, None, dtype=object)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    return gpd.GeoDataFrame(data, geometry=geoms, crs=meta["crs"])


def _reproject(raw: gpd.GeoDataFrame, *, path: Path, declared: str | None) -> gpd.GeoDataFrame:
    """The frame in WGS-84, from the file's CRS, else the declared one, else assumed lon/lat."""
    found = None if raw.crs is None or _geojson_without_crs(path) else raw.crs
    wanted = _parse_crs(declared, path=path) if declared is not None else None
    if (
        found is not None
        and wanted is not None
        and not found.equals(wanted, ignore_axis_order=True)
    ):
        raise GridFileError(
            f"the file's CRS is {_crs_name(found)} but crs={declared!r} was declared",
            path=path,
            kind=FileErrorKind.UNREADABLE,
        )
    source = found or wanted or pyproj.CRS.from_user_input(WGS84)
    if source.equals(pyproj.CRS.from_user_input(WGS84), ignore_axis_order=True):
        return raw.set_crs(WGS84, allow_override=True)
    step = None
    if source.is_projected:
        step = DENSIFY_M / source.axis_info[0].unit_conversion_factor
    geoms = project(raw.geometry.values, source=source, target=WGS84, max_segment=step)
    return raw.set_geometry(gpd.GeoSeries(geoms, index=raw.index, crs=WGS84))


def _geojson_without_crs(path: Path) -> bool:
    """GeoJSON with no "crs" member: GDAL reports WGS-84 for it, but the file declares nothing."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            document = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and "crs" not in document


def _parse_crs(value: str, *, path: Path) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        raise GridFileError(
            f"unknown CRS {value!r}", path=path, kind=FileErrorKind.UNREADABLE
        ) from exc


def _crs_name(crs: pyproj.CRS) -> str:
    authority = crs.to_authority()
    return ":".join(authority) if authority else crs.name


def _canonical(raw: gpd.GeoDataFrame, *, path: Path, fields: Mapping[str, str]) -> gpd.GeoDataFrame:
    frame = _apply_mapping(raw, path=path, fields=fields)
    return gpd.GeoDataFrame(
        {
            "code": [text_value(v) for v in frame["code"]],
            "name": [text_value(v) for v in frame["name"]],
            "tier": [_tier_value(v) for v in frame["tier"]],
            "parent_code": [text_value(v) for v in frame["parent_code"]],
            **{column: _counts(frame, column) for column in COUNT_FIELDS},
        },
        geometry=shapely.force_2d(frame.geometry.values),
        crs=WGS84,
    )


def _apply_mapping(
    raw: gpd.GeoDataFrame, *, path: Path, fields: Mapping[str, str]
) -> gpd.GeoDataFrame:
    """Source columns renamed to canonical names; every canonical field present, or an error."""
    for canonical in fields:
        if canonical not in (*CANONICAL_FIELDS, *COUNT_FIELDS):
            raise UnknownFieldError(canonical)
    columns = [str(c) for c in raw.columns if c != raw.geometry.name]
    has = ", ".join(columns) or "none"
    unmatched = tuple(source for source in fields.values() if source not in raw.columns)
    if unmatched:
        raise GridFileError(
            f"mapped field(s) {', '.join(unmatched)} not in the file; it has: {has}",
            path=path,
            kind=FileErrorKind.MISSING_FIELD,
            fields=unmatched,
        )
    shadowed = [c for c in fields if c in raw.columns and c not in fields.values()]
    frame = raw.drop(columns=shadowed).rename(columns={v: k for k, v in fields.items()})
    absent = tuple(f for f in CANONICAL_FIELDS if f not in frame.columns)
    if absent:
        raise GridFileError(
            f"missing field(s) {', '.join(absent)}; the file has: {has}",
            path=path,
            kind=FileErrorKind.MISSING_FIELD,
            fields=absent,
        )
    return frame


def _tier_value(value: object) -> str:
    """The canonical tier, or the raw text so the validator can name what it could not parse."""
    text = text_value(value)
    tier = parse_tier(text)
    return tier.value if tier is not None else text


def _counts(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(0, index=frame.index, dtype="int64")
    numbers = pd.to_numeric(frame[column], errors="coerce").fillna(0)
    return numbers.round().astype("int64")


def _writable(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Exactly the canonical columns, in order, with fixed dtypes, in WGS-84."""
    if gdf.crs is None:
        frame = gdf.set_crs(WGS84)
    elif not gdf.crs.equals(pyproj.CRS.from_user_input(WGS84), ignore_axis_order=True):
        frame = gdf.to_crs(WGS84)
    else:
        frame = gdf
    out = pd.DataFrame(
        {column: [text_value(v) for v in frame[column]] for column in CANONICAL_FIELDS}
    )
    for column in COUNT_FIELDS:
        out[column] = _counts(frame, column).to_numpy()
    return gpd.GeoDataFrame(out, geometry=list(frame.geometry.values), crs=WGS84)


@contextlib.contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GDAL_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
