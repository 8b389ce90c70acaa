"""Which text encoding a grid file's attributes are in: the one asked for, or a detected one."""

from __future__ import annotations

import codecs
from pathlib import Path

#: dBASE language-driver ids that name no code page: unset, or "the writer's ANSI code page".
_UNSPECIFIED_LDIDS = (0x00, 0x57)


class UnknownEncodingError(ValueError):
    """An attribute encoding that Python has no codec for."""

    def __init__(self, encoding: str) -> None:
        super().__init__(f"unknown encoding {encoding!r} (try utf-8, gb18030, gbk or big5)")
        self.encoding = encoding


def check_encoding(encoding: str | None) -> None:
    """Refuse an encoding name before GDAL reads a single row with it."""
    if encoding is None:
        return
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UnknownEncodingError(encoding) from None


def shapefile_encoding(path: Path) -> str | None:
    """The text encoding of a Shapefile whose .dbf says nothing about it, else None (GDAL's call).

    Chinese desktop GIS writes GBK tables with no .cpg and no language driver, which GDAL would
    read as ISO-8859-1 and turn every name into mojibake. UTF-8 is self-validating, so bytes that
    decode as UTF-8 are UTF-8; anything else is taken as GB18030, the superset of GBK.
    """
    if path.suffix.lower() != ".shp" or sibling_file(path, ".cpg") is not None:
        return None
    dbf = sibling_file(path, ".dbf")
    if dbf is None:
        return None
    data = dbf.read_bytes()
    if len(data) < 32 or data[29] not in _UNSPECIFIED_LDIDS:
        return None
    try:
        data[32:].decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def sibling_file(path: Path, suffix: str) -> Path | None:
    """The file beside ``path`` with ``suffix`` in either case, as Windows tools write them."""
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None
