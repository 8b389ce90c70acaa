"""A grid frame's attribute table as the checks read it: text values, parsed tiers, labels."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from numpy.typing import NDArray

from geo.io import text_value
from geo.model import Tier, parse_tier


@dataclass(frozen=True)
class Rows:
    """One entry per feature; a feature with no code is labelled ``#n``, its row number."""

    labels: list[str]
    codes: list[str]
    names: list[str]
    raw_tiers: list[str]
    tiers: list[Tier | None]
    parents: list[str]
    geoms: NDArray

    @classmethod
    def of(cls, gdf: gpd.GeoDataFrame) -> Rows:
        codes = [text_value(v) for v in gdf["code"]]
        raw_tiers = [text_value(v) for v in gdf["tier"]]
        return cls(
            labels=[code or f"#{i + 1}" for i, code in enumerate(codes)],
            codes=codes,
            names=[text_value(v) for v in gdf["name"]],
            raw_tiers=raw_tiers,
            tiers=[parse_tier(v) for v in raw_tiers],
            parents=[text_value(v) for v in gdf["parent_code"]],
            geoms=np.asarray(gdf.geometry.values, dtype=object),
        )

    def label(self, i: int) -> str:
        """``micro-grid 51011700100101001``, or ``feature #7`` when the tier is unknown."""
        tier = self.tiers[i]
        return f"{tier.label_en} {self.labels[i]}" if tier else f"feature {self.labels[i]}"

    def tier_values(self) -> NDArray:
        """The canonical tier of each row as text, "" where it is unknown."""
        return np.array([t.value if t else "" for t in self.tiers], dtype=object)
