"""What can be wrong with a grid file, said so that a GIS technician can find and fix it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    """What is wrong; the value is what reports and the import log print."""

    UNREADABLE = "unreadable"
    MISSING_FIELD = "missing-field"
    NOT_POLYGON = "not-polygon"
    EMPTY_GEOMETRY = "empty-geometry"
    INVALID_GEOMETRY = "invalid-geometry"
    OUT_OF_BOUNDS = "out-of-bounds"
    DUPLICATE_CODE = "duplicate-code"
    UNKNOWN_PARENT = "unknown-parent"
    OUTSIDE_PARENT = "outside-parent"
    OVERLAP = "overlap"
    GAP = "gap"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, naming the grids involved (``#n`` is the n-th feature).

    Gaps, overlaps and overhangs carry their area and their largest width: the width is what
    decides whether they matter, the area how much ground is at stake.
    """

    kind: ProblemKind
    codes: tuple[str, ...]
    message: str
    area_m2: float | None = None
    width_m: float | None = None

    def __str__(self) -> str:
        message = " ".join(self.message.split())
        return f"{self.kind}\t{','.join(self.codes)}\t{message}"


def size_text(area_m2: float, width_m: float) -> str:
    """``2,121.8 m², up to 14.2 m wide``: how a piece of ground is described in messages."""
    return f"{area_m2:,.1f} m², up to {width_m:,.1f} m wide"
