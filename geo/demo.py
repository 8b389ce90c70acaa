"""Synthetic Pidu: the three-tier grid of the district, generated inside its real border.

Street and grid boundaries are not public, so the demo makes its own, labelled synthetic
wherever it is shown. It reproduces the published figures exactly: 147 total grids,
638 general grids, 5,965 micro-grids, 1.6 million residents at 2.49 per household.
Micro-grids are Voronoi cells of population-weighted seeds (small in the urban streets,
large in the farmland), streets follow a warped pattern, and every coarser grid is the
exact union of its children. The same seed gives the same grids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from geo import names
from geo.crs import local_metric_crs
from geo.model import PERSONS_PER_HOUSEHOLD, WGS84, Tier, boundary_path, streets
from geo.partition import (
    adjacency,
    bisect_groups,
    largest_remainder,
    lloyd,
    make_contiguous,
    reading_order,
    sample_in,
    voronoi_cells,
)

DEMO_VERSION = 1  # bump when the generator's output changes, so caches rebuild


@dataclass(frozen=True, slots=True)
class DemoSpec:
    seed: int = 20220921
    totals: int = 147
    generals: int = 638
    micros: int = 5965
    residents: int = 1_600_000
    persons_per_household: float = PERSONS_PER_HOUSEHOLD
    samples: int = 200_000
    lloyd_iterations: int = 3


def build_demo(spec: DemoSpec | None = None) -> gpd.GeoDataFrame:
    """The canonical grid frame (WGS-84) of synthetic Pidu."""
    spec = spec or DemoSpec()
    rng = np.random.default_rng(spec.seed)
    border_ll = gpd.read_file(boundary_path()).geometry.union_all()
    metric = local_metric_crs(*border_ll.centroid.coords[0])
    border = gpd.GeoSeries([border_ll], crs=WGS84).to_crs(metric).iloc[0]

    table = streets()
    anchors = _project([s.anchor for s in table], metric)
    samples = sample_in(border, spec.samples, rng)
    density = _density(samples, anchors, np.array([s.urban for s in table]), border, rng)
    # Many points in, an index array out (the stubs also allow one point's scalar pair).
    street_of_sample = cast("NDArray[np.intp]", cKDTree(anchors).query(_warp(samples, rng))[1])

    weights = np.array([s.weight for s in table], dtype=float)
    micros_per_street = largest_remainder(spec.micros, weights, minimum=1)
    seeds, seed_street = _seeds(samples, density, street_of_sample, micros_per_street, spec, rng)
    cells = voronoi_cells(seeds, border)
    seed_street = make_contiguous(seed_street, adjacency(cells))
    mass = _cell_mass(seeds, samples, density)

    frames = []
    residents = largest_remainder(spec.residents, weights, minimum=1)
    totals = largest_remainder(spec.totals, weights, minimum=3)
    generals = largest_remainder(spec.generals, weights, minimum=int(totals.min()))
    for s, street in enumerate(table):
        mine = np.flatnonzero(seed_street == s)
        layout = _StreetLayout(
            street_code=street.code,
            rural=not street.urban,
            cells=cells[mine],
            xy=seeds[mine],
            mass=mass[mine],
            totals=int(totals[s]),
            generals=int(generals[s]),
            residents=int(residents[s]),
            persons_per_household=spec.persons_per_household,
        )
        frames.append(layout.build(rng))
    grids = pd.concat(frames, ignore_index=True)
    out = gpd.GeoDataFrame(grids, geometry="geometry", crs=metric).to_crs(WGS84)
    return _sorted(out)


def _project(lonlat: list[tuple[float, float]], crs: pyproj.CRS) -> NDArray:
    pts = gpd.GeoSeries(shapely.points(lonlat), crs=WGS84).to_crs(crs)
    return shapely.get_coordinates(pts.values)


def _warp(xy: NDArray, rng: np.random.Generator) -> NDArray:
    """A smooth displacement (~1.5 km) so street borders meander like rivers and roads."""
    phase = rng.uniform(0, 2 * np.pi, size=4)
    amp, wave = 1500.0, 7000.0
    x, y = xy[:, 0], xy[:, 1]
    dx = amp * np.sin(2 * np.pi * y / wave + phase[0]) + amp / 2 * np.sin(
        2 * np.pi * (x + y) / (wave / 2) + phase[1]
    )
    dy = amp * np.sin(2 * np.pi * x / wave + phase[2]) + amp / 2 * np.sin(
        2 * np.pi * (x - y) / (wave / 2) + phase[3]
    )
    return np.column_stack((x + dx, y + dy))


def _density(
    samples: NDArray,
    anchors: NDArray,
    urban: NDArray[np.bool_],
    border: BaseGeometry,
    rng: np.random.Generator,
) -> NDArray:
    """Relative population density: urban cores, town centres, villages, farmland."""
    d = np.full(len(samples), 0.6)
    for (ax, ay), is_urban in zip(anchors, urban, strict=True):
        r2 = (samples[:, 0] - ax) ** 2 + (samples[:, 1] - ay) ** 2
        d += (14.0 if is_urban else 4.0) * np.exp(-r2 / (2 * (2600.0 if is_urban else 1300.0) ** 2))
    for vx, vy in sample_in(border, 60, rng):
        r2 = (samples[:, 0] - vx) ** 2 + (samples[:, 1] - vy) ** 2
        d += 2.0 * np.exp(-r2 / (2 * 450.0**2))
    return d


def _seeds(
    samples: NDArray,
    density: NDArray,
    street_of_sample: NDArray,
    counts: NDArray,
    spec: DemoSpec,
    rng: np.random.Generator,
) -> tuple[NDArray, NDArray]:
    seeds, labels = [], []
    for s, n in enumerate(counts):
        pts = samples[street_of_sample == s]
        w = density[street_of_sample == s]
        pick = rng.choice(len(pts), size=int(n), replace=False, p=w / w.sum())
        seeds.append(lloyd(pts[pick], pts, w, iterations=spec.lloyd_iterations))
        labels.append(np.full(int(n), s))
    return np.concatenate(seeds), np.concatenate(labels)


def _cell_mass(seeds: NDArray, samples: NDArray, density: NDArray) -> NDArray:
    """Population mass of each micro cell: density summed over the samples it holds."""
    owner = cKDTree(seeds).query(samples)[1]
    mass = np.bincount(owner, weights=density, minlength=len(seeds))
    return np.maximum(mass, mass[mass > 0].min())


@dataclass
class _StreetLayout:
    """One street's cells grouped into total and general grids, coded, named and peopled."""

    street_code: str
    rural: bool
    cells: NDArray
    xy: NDArray
    mass: NDArray
    totals: int
    generals: int
    residents: int
    persons_per_household: float

    def build(self, rng: np.random.Generator) -> pd.DataFrame:
        self._adj = adjacency(self.cells)
        total_of = make_contiguous(bisect_groups(self.xy, self.mass, self.totals, rng), self._adj)
        households, residents = self._people()
        community = names.community_names(self.totals, rng, rural=self.rural)
        rows: list[dict] = []
        total_xy = np.array([self.xy[total_of == t].mean(axis=0) for t in range(self.totals)])
        per_total_generals = self._generals_per_total(total_of)
        for seq, t in enumerate(reading_order(total_xy, band=1500.0), start=1):
            code = f"{self.street_code}{seq:03d}00"
            members = np.flatnonzero(total_of == t)
            rows += self._total_rows(code, community[seq - 1], members, per_total_generals[t],
                                     households, residents, rng)
        return pd.DataFrame(rows)

    def _generals_per_total(self, total_of: NDArray) -> NDArray:
        mass = np.bincount(total_of, weights=self.mass, minlength=self.totals)
        counts = largest_remainder(self.generals, mass, minimum=1)
        cells = np.bincount(total_of, minlength=self.totals)
        return np.minimum(counts, cells)

    def _people(self) -> tuple[NDArray, NDArray]:
        rel = np.clip(self.mass / self.mass.mean(), 0.35, 2.6)
        households = largest_remainder(round(self.residents / self.persons_per_household), rel,
                                       minimum=12)
        residents = largest_remainder(self.residents, households.astype(float), minimum=1)
        return households, residents

    def _total_rows(
        self,
        code: str,
        name: str,
        members: NDArray,
        n_generals: int | np.integer,
        households: NDArray,
        residents: NDArray,
        rng: np.random.Generator,
    ) -> list[dict]:
        general_of = make_contiguous(
            bisect_groups(self.xy[members], self.mass[members], int(n_generals), rng),
            self._adj[members][:, members],
        )
        centres = np.array([self.xy[members[general_of == g]].mean(axis=0)
                            for g in range(n_generals)])
        village = name.endswith("村")
        rows = [_row(code, name, Tier.TOTAL, "", self.cells[members], households[members],
                     residents[members])]
        for gseq, g in enumerate(reading_order(centres, band=600.0), start=1):
            gcode = f"{code[:12]}{gseq:02d}"
            inner = members[general_of == g]
            rows.append(_row(gcode, names.general_name(name, gseq), Tier.GENERAL, code,
                             self.cells[inner], households[inner], residents[inner]))
            order = inner[reading_order(self.xy[inner], band=200.0)]
            for mseq, (m, mname) in enumerate(
                zip(order, names.micro_names(len(order), rng, village=village), strict=True),
                start=1,
            ):
                rows.append(_row(f"{gcode}{mseq:03d}", mname, Tier.MICRO, gcode,
                                 self.cells[[m]], households[[m]], residents[[m]]))
        return rows


def _row(
    code: str,
    name: str,
    tier: Tier,
    parent: str,
    cells: NDArray,
    households: NDArray,
    residents: NDArray,
) -> dict:
    geom = cells[0] if len(cells) == 1 else shapely.coverage_union_all(cells)
    return {
        "code": code,
        "name": name,
        "tier": tier.value,
        "parent_code": parent,
        "households": int(households.sum()),
        "residents": int(residents.sum()),
        "geometry": geom,
    }


def _sorted(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rank = gdf["tier"].map({t.value: i for i, t in enumerate(Tier)})
    gdf = gdf.assign(_rank=rank).sort_values(["_rank", "code"], kind="stable")
    return gdf.drop(columns="_rank").reset_index(drop=True)

