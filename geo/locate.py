"""Point → micro, general, total grid and street, for one point or a million at once.

Most points fall well inside a micro-grid, so a lookup raster (cells of about 8 m) answers
them with one array index. Cells that any grid edge crosses, and the cells around them, are
marked "ask the polygons"; only points there go through the exact STRtree test. A point in
no grid is "outside", never the nearest grid.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.grids import GridSet
from geo.model import Tier, street_code_of, street_names

OUTSIDE = -1
_EXACT = -2  # raster cell too close to an edge: test the polygons
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True, slots=True)
class Location:
    lon: float
    lat: float
    micro: str | None
    general: str | None
    total: str | None
    street: str | None
    street_name: str | None

    @property
    def outside(self) -> bool:
        return self.micro is None

    def as_dict(self) -> dict:
        if self.outside:
            return {"lon": self.lon, "lat": self.lat, "outside": True}
        return {
            "lon": self.lon,
            "lat": self.lat,
            "outside": False,
            "micro": self.micro,
            "general": self.general,
            "total": self.total,
            "street": self.street,
            "street_name": self.street_name,
        }


class Locator:
    """Vectorised point-in-grid lookup over the micro tier of a grid set."""

    def __init__(self, grids: GridSet, *, cell_m: float = 8.0) -> None:
        micro = grids.tier(Tier.MICRO)
        self._geoms = micro.geometry.to_numpy()
        self._codes = micro["code"].to_numpy()
        self._general = micro["parent_code"].to_numpy()
        parent_of = dict(zip(grids.frame["code"], grids.frame["parent_code"], strict=True))
        self._total = np.array([parent_of[g] for g in self._general], dtype=object)
        self._tree = shapely.STRtree(self._geoms)
        self._raster = _Raster.build(self._geoms, cell_m=cell_m)
        self._chains: dict[int, dict[str, str]] = {}

    def __len__(self) -> int:
        return len(self._codes)

    def indices(self, lon: ArrayLike, lat: ArrayLike) -> NDArray:
        """Index of the micro-grid holding each point, or OUTSIDE (-1)."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        found = self._raster.lookup(lon, lat)
        exact = np.flatnonzero(found == _EXACT)
        if len(exact):
            found[exact] = self._exact(lon[exact], lat[exact])
        return found

    def index_of(self, lon: float, lat: float) -> int:
        """:meth:`indices` for one point, without array set-up (a single report's path)."""
        found = self._raster.cell(lon, lat)
        if found == _EXACT:
            found = int(self._exact(np.array([lon]), np.array([lat]))[0])
        return found

    def locate(self, lon: float, lat: float) -> Location:
        return self.locate_many([lon], [lat])[0]

    def locate_many(self, lon: ArrayLike, lat: ArrayLike) -> list[Location]:
        idx = self.indices(lon, lat)
        names = street_names()
        out = []
        for x, y, i in zip(np.asarray(lon, float), np.asarray(lat, float), idx, strict=True):
            if i == OUTSIDE:
                out.append(Location(float(x), float(y), None, None, None, None, None))
                continue
            street = street_code_of(self._codes[i])
            out.append(Location(float(x), float(y), self._codes[i], self._general[i],
                                self._total[i], street, names.get(street, (None,))[0]))
        return out

    def chain_of(self, i: int) -> dict[str, str]:
        """Micro, general, total grid and street codes of micro-grid index ``i``.

        The same (shared, read-only) dict each time: copy it before changing it.
        """
        chain = self._chains.get(i)
        if chain is None:
            micro = str(self._codes[i])
            chain = self._chains[i] = {"micro": micro, "general": str(self._general[i]),
                                       "total": str(self._total[i]),
                                       "street": street_code_of(micro)}
        return chain

    def codes(self, idx: NDArray) -> NDArray:
        """Micro-grid codes for indices from :meth:`indices` (None where outside)."""
        out = np.full(len(idx), None, dtype=object)
        inside = idx != OUTSIDE
        out[inside] = self._codes[idx[inside]]
        return out

    def _exact(self, lon: NDArray, lat: NDArray) -> NDArray:
        hit_point, hit_geom = self._tree.query(shapely.points(lon, lat), predicate="intersects")
        out = np.full(len(lon), OUTSIDE, dtype=np.int32)
        # A point on a shared edge touches two grids: the lower index wins, deterministically.
        order = np.lexsort((hit_geom, hit_point))
        first = np.unique(hit_point[order], return_index=True)[1]
        out[hit_point[order][first]] = hit_geom[order][first]
        return out


@dataclass(frozen=True)
class _Raster:
    """Lookup raster in lon/lat: each cell holds a micro index, OUTSIDE, or _EXACT."""

    x0: float
    y0: float
    dx: float
    dy: float
    cells: NDArray  # int16/int32 (ny, nx)

    @classmethod
    def build(cls, geoms: NDArray, *, cell_m: float) -> _Raster:
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        dy = cell_m / _METRES_PER_DEGREE
        dx = dy / math.cos(math.radians((miny + maxy) / 2))
        nx, ny = int((maxx - minx) / dx) + 1, int((maxy - miny) / dy) + 1
        dtype = np.int16 if len(geoms) < 32_000 else np.int32
        cells = np.full((ny, nx), OUTSIDE, dtype=dtype)
        raster = cls(minx, miny, dx, dy, cells)
        raster._label_centres(geoms)
        raster._mark_edges(geoms)
        return raster

    def _label_centres(self, geoms: NDArray) -> None:
        bounds = shapely.bounds(geoms)
        shapely.prepare(geoms)
        for i, (gx0, gy0, gx1, gy1) in enumerate(bounds):
            ix0, iy0 = self._ix(gx0), self._iy(gy0)
            ix1, iy1 = self._ix(gx1), self._iy(gy1)
            xs = self.x0 + (np.arange(ix0, ix1 + 1) + 0.5) * self.dx
            ys = self.y0 + (np.arange(iy0, iy1 + 1) + 0.5) * self.dy
            gx, gy = np.meshgrid(xs, ys)
            inside = shapely.contains_xy(geoms[i], gx, gy)
            block = self.cells[iy0 : iy1 + 1, ix0 : ix1 + 1]
            block[inside] = i

    def _mark_edges(self, geoms: NDArray) -> None:
        # Vertices every half cell along every edge land in each cell an edge crosses or
        # in a neighbour of it; marking those cells and their 8 neighbours is exact.
        edges = shapely.segmentize(shapely.boundary(geoms), min(self.dx, self.dy) / 2)
        xy = shapely.get_coordinates(edges)
        ix = np.clip(((xy[:, 0] - self.x0) / self.dx).astype(np.int64), 0, None)
        iy = np.clip(((xy[:, 1] - self.y0) / self.dy).astype(np.int64), 0, None)
        mask: NDArray[np.bool_] = np.zeros(self.cells.shape, dtype=bool)
        ny, nx = mask.shape
        for ox in (-1, 0, 1):
            for oy in (-1, 0, 1):
                mask[np.clip(iy + oy, 0, ny - 1), np.clip(ix + ox, 0, nx - 1)] = True
        self.cells[mask] = _EXACT

    def _ix(self, x: float) -> int:
        return min(max(int((x - self.x0) / self.dx), 0), self.cells.shape[1] - 1)

    def _iy(self, y: float) -> int:
        return min(max(int((y - self.y0) / self.dy), 0), self.cells.shape[0] - 1)

    def cell(self, lon: float, lat: float) -> int:
        fx = (lon - self.x0) / self.dx
        fy = (lat - self.y0) / self.dy
        ny, nx = self.cells.shape
        if not (0 <= fx < nx and 0 <= fy < ny):
            return OUTSIDE
        return int(self.cells[int(fy), int(fx)])

    def lookup(self, lon: NDArray, lat: NDArray) -> NDArray:
        fx = (lon - self.x0) / self.dx
        fy = (lat - self.y0) / self.dy
        ny, nx = self.cells.shape
        inside = (fx >= 0) & (fx < nx) & (fy >= 0) & (fy < ny)
        out = np.full(len(lon), OUTSIDE, dtype=np.int32)
        out[inside] = self.cells[fy[inside].astype(np.int64), fx[inside].astype(np.int64)]
        return out
