"""The canonical grid data model: three tiers, their codes, and the table of streets.

Every grid file, demo or imported, is turned into one GeoDataFrame with the canonical
columns below, in WGS-84 longitude/latitude. Everything else in the product reads that.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

WGS84 = "EPSG:4326"
DISTRICT_CODE = "510117"
DISTRICT_NAME = "郫都区"
DISTRICT_NAME_EN = "Pidu District"
PERSONS_PER_HOUSEHOLD = 2.49

#: Columns every canonical grid frame carries (plus ``geometry``).
CANONICAL_FIELDS = ("code", "name", "tier", "parent_code")
#: Optional numeric columns; absent ones are filled with 0.
COUNT_FIELDS = ("households", "residents")


class Tier(StrEnum):
    """The three tiers of 三级网格, coarsest first."""

    TOTAL = "total"
    GENERAL = "general"
    MICRO = "micro"

    @property
    def parent(self) -> Tier | None:
        return {Tier.TOTAL: None, Tier.GENERAL: Tier.TOTAL, Tier.MICRO: Tier.GENERAL}[self]

    @property
    def child(self) -> Tier | None:
        return {Tier.TOTAL: Tier.GENERAL, Tier.GENERAL: Tier.MICRO, Tier.MICRO: None}[self]

    @property
    def label_zh(self) -> str:
        return {Tier.TOTAL: "总网格", Tier.GENERAL: "一般网格", Tier.MICRO: "微网格"}[self]

    @property
    def label_en(self) -> str:
        return {Tier.TOTAL: "total grid", Tier.GENERAL: "general grid", Tier.MICRO: "micro-grid"}[
            self
        ]


#: Values real files use for the tier field, mapped to canonical tiers.
TIER_ALIASES: dict[str, Tier] = {
    **{t.value: t for t in Tier},
    "总网格": Tier.TOTAL,
    "一般网格": Tier.GENERAL,
    "微网格": Tier.MICRO,
    "1": Tier.TOTAL,
    "2": Tier.GENERAL,
    "3": Tier.MICRO,
}


def parse_tier(value: object) -> Tier | None:
    """The canonical tier for a file's tier value, or None when it is not one."""
    if value is None:
        return None
    return TIER_ALIASES.get(str(value).strip().lower())


def street_code_of(grid_code: str) -> str:
    """Street (township) code: the first 9 digits of any grid code (6 district + 3 street)."""
    return grid_code[:9]


def community_code_of(grid_code: str) -> str:
    """12-digit community code, shared by a total grid and everything inside it."""
    return grid_code[:12]


@dataclass(frozen=True, slots=True)
class Street:
    code: str
    name: str
    name_en: str
    urban: bool
    weight: int
    anchor: tuple[float, float]


def data_dir() -> Path:
    """The folder of small shipped data files (source checkout, else the installed copy)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "data", here.parent / "dashboard" / "_data"):
        if (candidate / "streets.csv").exists():
            return candidate
    raise FileNotFoundError(f"shipped data folder not found next to {here}")


@cache
def streets() -> tuple[Street, ...]:
    """The ten streets and towns the district runs itself, from ``data/streets.csv``."""
    with open(data_dir() / "streets.csv", encoding="utf-8", newline="") as fh:
        return tuple(
            Street(
                code=row["code"],
                name=row["name"],
                name_en=row["name_en"],
                urban=row["urban"] == "1",
                weight=int(row["weight"]),
                anchor=(float(row["anchor_lon"]), float(row["anchor_lat"])),
            )
            for row in csv.DictReader(fh)
        )


def street_names() -> dict[str, tuple[str, str]]:
    """Street code → (Chinese name, English name)."""
    return {s.code: (s.name, s.name_en) for s in streets()}


def boundary_path() -> Path:
    return data_dir() / "pidu_boundary.geojson"
