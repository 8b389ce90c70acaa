"""A loaded, validated grid set: the three tiers plus the lookups every screen needs."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geo.crs import local_metric_crs
from geo.model import DISTRICT_NAME, DISTRICT_NAME_EN, Tier, street_code_of, street_names


class UnknownGridError(KeyError):
    """A grid code that is not in the loaded grid set."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"grid code {self.code!r} is not in the loaded grid set"


@dataclass(frozen=True, slots=True)
class GridRef:
    code: str
    name: str
    tier: str


@dataclass(frozen=True)
class GridSet:
    """Canonical grid frame (WGS-84) with where it came from and a content digest."""

    frame: gpd.GeoDataFrame
    synthetic: bool
    source: str
    digest: str = field(default="")

    @classmethod
    def from_frame(cls, frame: gpd.GeoDataFrame, *, synthetic: bool, source: str) -> GridSet:
        frame = frame.reset_index(drop=True)
        return cls(frame=frame, synthetic=synthetic, source=source, digest=_digest(frame))

    def tier(self, tier: Tier) -> gpd.GeoDataFrame:
        return self.frame[self.frame["tier"] == tier.value].reset_index(drop=True)

    @cached_property
    def _by_code(self) -> dict[str, int]:
        return {code: i for i, code in enumerate(self.frame["code"])}

    @cached_property
    def _areas_km2(self) -> NDArray[np.floating]:
        lon, lat = self.frame.geometry.union_all().centroid.coords[0]
        return self.frame.to_crs(local_metric_crs(lon, lat)).area.to_numpy() / 1e6

    @cached_property
    def _child_counts(self) -> dict[Hashable, int]:
        return self.frame["parent_code"].value_counts().to_dict()

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def ref(self, code: str) -> GridRef:
        row = self._row(code)
        return GridRef(code=row["code"], name=row["name"], tier=row["tier"])

    def geometry(self, code: str) -> BaseGeometry:
        """The grid's polygon (WGS-84)."""
        self._row(code)
        return self.frame.geometry.iloc[self._by_code[code]]

    def chain(self, code: str) -> list[GridRef]:
        """The grid and its ancestors, coarsest first (total → general → micro)."""
        refs = []
        current = code
        while current:
            refs.append(self.ref(current))
            current = self._row(current)["parent_code"]
        return refs[::-1]

    def info(self, code: str) -> dict:
        """Everything the side panel shows for one grid."""
        row = self._row(code)
        street = street_code_of(code)
        zh, en = street_names().get(street, ("", ""))
        return {
            "code": code,
            "name": row["name"],
            "tier": row["tier"],
            "chain": [_ref_dict(ref) for ref in self.chain(code)],
            "street_code": street,
            "street_name": zh,
            "street_name_en": en,
            "households": int(row["households"]),
            "residents": int(row["residents"]),
            "area_km2": float(self._areas_km2[self._by_code[code]]),
            "children": int(self._child_counts.get(code, 0)),
        }

    @cached_property
    def _summary(self) -> dict:
        return self._compute_summary()

    def summary(self) -> dict:
        return dict(self._summary)

    def _compute_summary(self) -> dict:
        """Counts per tier and the district totals the header shows."""
        micro = self.frame[self.frame["tier"] == Tier.MICRO.value]
        counts = self.frame["tier"].value_counts()
        return {
            "district": DISTRICT_NAME,
            "district_en": DISTRICT_NAME_EN,
            "counts": {t.value: int(counts.get(t.value, 0)) for t in Tier},
            "households": int(micro["households"].sum()),
            "residents": int(micro["residents"].sum()),
            "streets": len(self.street_codes),
            "synthetic": self.synthetic,
            "digest": self.digest,
        }

    @cached_property
    def street_codes(self) -> list[str]:
        return sorted({street_code_of(c) for c in self.frame["code"]})

    def streets_frame(self) -> gpd.GeoDataFrame:
        """Street outlines: total grids dissolved by their street code."""
        return self._streets.copy()

    @cached_property
    def _streets(self) -> gpd.GeoDataFrame:
        totals = self.tier(Tier.TOTAL)
        totals = totals.assign(street_code=totals["code"].map(street_code_of))
        out = totals.dissolve("street_code", aggfunc={"households": "sum", "residents": "sum"})
        out = out.reset_index()
        known = street_names()
        out["name"] = out["street_code"].map(lambda c: known.get(c, (c, c))[0])
        out["geometry"] = shapely.make_valid(out.geometry.values)
        return out

    def _row(self, code: str) -> pd.Series:
        try:
            return self.frame.iloc[self._by_code[code]]
        except KeyError:
            raise UnknownGridError(code) from None


def _ref_dict(ref: GridRef) -> dict:
    return {"code": ref.code, "name": ref.name, "tier": ref.tier}


def _digest(frame: gpd.GeoDataFrame) -> str:
    h = hashlib.sha256()
    for col in ("code", "name", "tier", "parent_code", "households", "residents"):
        h.update("\x1f".join(map(str, frame[col].tolist())).encode())
    for wkb in shapely.to_wkb(frame.geometry.values, output_dimension=2):
        h.update(wkb)
    return h.hexdigest()[:16]
