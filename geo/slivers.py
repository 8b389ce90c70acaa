"""How wide a piece of overlay is: pieces narrower than the tolerance are noise, wider ones real.

Reprojection bends straight edges: a parent's 10 km chord and its children's many vertices along
it part by millimetres over kilometres, so the slivers between them add up to square metres while
no point of them is more than a few millimetres from both grids. GIS topology tools judge such
pieces by a distance (a cluster or snapping tolerance), not an area, and so does this module: a
piece matters when a disc wider than the tolerance fits inside it.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.crs import local_metric_crs, project
from geo.model import WGS84

#: Edges are densified to this (about 10 m) before measuring, so slivers stay thin when projected.
_SEGMENT_DEG = 1e-4
#: Widths are found to within this many metres (messages print one decimal).
_WIDTH_PRECISION_M = 0.01


class SliverGauge:
    """Measures overlay pieces in a local metric CRS centred on the grids being checked."""

    def __init__(self, geoms: ArrayLike, *, tolerance_m: float) -> None:
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        lon, lat = (minx + maxx) / 2, (miny + maxy) / 2
        self.metric = local_metric_crs(lon, lat)
        self.tolerance_m = float(tolerance_m)
        cell = shapely.box(lon, lat, lon + 1e-3, lat + 1e-3)
        self._m2_per_deg2 = project([cell], source=WGS84, target=self.metric)[0].area / 1e-6
        #: The area of a disc as wide as the tolerance: anything smaller cannot hold one.
        self._disc_m2 = math.pi * self.tolerance_m**2 / 4

    def measure(self, pieces: ArrayLike) -> tuple[NDArray, NDArray]:
        """Per lon/lat piece: the area (m²) of its parts wider than the tolerance, and the width
        (m) of the widest; both 0 for a piece that is only slivers.

        Nearly all pieces are float noise or slivers; a flat m²-per-degree² factor and the area
        of a tolerance-wide disc rule them out before anything is projected.
        """
        pieces = np.asarray(pieces, dtype=object)
        areas, widths = np.zeros(len(pieces)), np.zeros(len(pieces))
        near = np.flatnonzero(shapely.area(pieces) * self._m2_per_deg2 > self._disc_m2 / 2)
        if len(near) == 0:
            return areas, widths
        metric = project(pieces[near], source=WGS84, target=self.metric, max_segment=_SEGMENT_DEG)
        parts, owner = shapely.get_parts(metric, return_index=True)
        part_areas = shapely.area(parts)
        wide = part_areas > self._disc_m2
        wide[wide] = ~shapely.is_empty(shapely.buffer(parts[wide], -self.tolerance_m / 2))
        rows = near[owner[wide]]
        np.add.at(areas, rows, part_areas[wide])
        np.maximum.at(widths, rows, widths_m(parts[wide], at_least=self.tolerance_m))
        return areas, widths


def widths_m(parts: ArrayLike, *, at_least: float = 0.0) -> NDArray:
    """The width of each polygon, twice the radius of the largest disc inside it, in its units.

    Found by bisecting erosions (``buffer(-w / 2)`` is empty exactly when no disc of width
    ``w`` fits): shapely.maximum_inscribed_circle refines cells down to its tolerance along the
    whole length of a sliver, which for a kilometre-long one takes minutes.
    """
    parts = np.asarray(parts, dtype=object)
    low = np.full(len(parts), float(at_least))
    high = np.maximum(2 * np.sqrt(shapely.area(parts) / math.pi), low) + _WIDTH_PRECISION_M
    todo = np.flatnonzero(high - low > _WIDTH_PRECISION_M)
    while len(todo):
        mid = (low[todo] + high[todo]) / 2
        fits = ~shapely.is_empty(shapely.buffer(parts[todo], -mid / 2))
        low[todo] = np.where(fits, mid, low[todo])
        high[todo] = np.where(fits, high[todo], mid)
        todo = todo[high[todo] - low[todo] > _WIDTH_PRECISION_M]
    return low
