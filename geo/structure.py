"""The checks that compare polygons: overlaps within a tier, overhangs, gaps and holes.

Overlay runs in the file's own lon/lat, where shared edges match exactly; only the resulting
pieces are projected, into a local metric CRS, to measure them. A piece counts when some part
of it is wider than the tolerance (see :mod:`geo.slivers`), and is reported with its area and
its largest width.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.links import link_rows
from geo.model import Tier
from geo.problems import Problem, ProblemKind, size_text
from geo.rows import Rows
from geo.slivers import SliverGauge


class Structure:
    """Structural problems among the ``usable`` rows (good geometry, known tier)."""

    def __init__(self, rows: Rows, good: NDArray, usable: NDArray, tolerance_m: float) -> None:
        self.rows, self.good, self.usable = rows, good, usable
        self.gauge = SliverGauge(rows.geoms[usable], tolerance_m=tolerance_m)
        self.tier_of = rows.tier_values()
        self.links = link_rows(rows, good, usable)

    def problems(self) -> list[Problem]:
        out = self._outside_parents()
        for tier in Tier:
            out += self._overlaps(tier)
        for tier in (Tier.TOTAL, Tier.GENERAL):
            out += self._gaps(tier)
        return out + self._holes()

    def _outside_parents(self) -> list[Problem]:
        pairs = [(c, p) for p, kids in self.links.children.items() for c in kids]
        if not pairs:
            return []
        child, parent = np.array(pairs, dtype=int).T
        geoms, label = self.rows.geoms, self.rows.label
        inside = shapely.contains_properly(geoms[parent], geoms[child])
        child, parent = child[~inside], parent[~inside]
        pieces = shapely.difference(geoms[child], geoms[parent])
        return self._report(
            ProblemKind.OUTSIDE_PARENT,
            list(zip(child, parent, strict=True)),
            pieces,
            lambda k, size: f"{label(child[k])} extends {size}, outside its {label(parent[k])}",
        )

    def _overlaps(self, tier: Tier) -> list[Problem]:
        index = np.flatnonzero(self.usable & (self.tier_of == tier.value))
        geoms, label = self.rows.geoms[index], self.rows.label
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
        left, right = left[left < right], right[left < right]
        interiors = shapely.relate_pattern(geoms[left], geoms[right], "T********")
        left, right = index[left[interiors]], index[right[interiors]]
        pieces = shapely.intersection(self.rows.geoms[left], self.rows.geoms[right])
        return self._report(
            ProblemKind.OVERLAP,
            list(zip(left, right, strict=True)),
            pieces,
            lambda k, size: f"{label(left[k])} and {label(right[k])} overlap by {size}",
        )

    def _gaps(self, tier: Tier) -> list[Problem]:
        """The ground of each parent that nothing in it covers."""
        child = tier.child
        assert child is not None, f"{tier} grids have no children"
        geoms, links, label = self.rows.geoms, self.links, self.rows.label
        parents = [
            int(p)
            for p in np.flatnonzero(self.usable & (self.tier_of == tier.value))
            if p not in links.blocked
        ]
        covered = [shapely.union_all(geoms[links.cover.get(p, [])]) for p in parents]
        return self._report(
            ProblemKind.GAP,
            [(p,) for p in parents],
            shapely.difference(geoms[parents], covered),
            lambda k, size: (
                f"{label(parents[k])} has a gap of {size}, in none of its {child.label_en}s"
            ),
        )

    def _holes(self) -> list[Problem]:
        """Holes inside the union of all total grids, which no parent's gap check can see.

        Broken total grids are already reported; their envelopes fill the holes they leave.
        """
        is_total = self.tier_of == Tier.TOTAL.value
        totals = np.flatnonzero(self.usable & is_total)
        if len(totals) == 0:
            return []
        broken = shapely.envelope(self.rows.geoms[~self.usable & is_total])
        union = shapely.union_all([*self.rows.geoms[totals], *broken])
        rings = [r for part in shapely.get_parts(union) for r in getattr(part, "interiors", [])]
        ring_array = np.array(rings, dtype=object).reshape(-1)
        # An array of rings makes an array of polygons (the stubs also allow a single one).
        holes = cast("NDArray[np.object_]", shapely.polygons(ring_array))
        tree = shapely.STRtree(self.rows.geoms[totals])
        around = [tuple(sorted(totals[tree.query(h, predicate="intersects")])) for h in holes]
        spots = shapely.get_coordinates(shapely.point_on_surface(holes))
        return self._report(
            ProblemKind.GAP,
            around,
            holes,
            lambda k, size: (
                f"hole of {size}, at ({spots[k][0]:.6f}, {spots[k][1]:.6f}) is in no total grid "
                f"(around {', '.join(self.rows.labels[i] for i in around[k])})"
            ),
        )

    def _report(
        self,
        kind: ProblemKind,
        groups: list[tuple[int, ...]],
        pieces: NDArray,
        describe: Callable[[int, str], str],
    ) -> list[Problem]:
        """A problem for each group of rows whose piece (the k-th) is wider than tolerance."""
        areas, widths = self.gauge.measure(pieces)
        labels = self.rows.labels
        return [
            Problem(
                kind,
                tuple(labels[i] for i in groups[k]),
                describe(k, size_text(areas[k], widths[k])),
                area_m2=float(areas[k]),
                width_m=float(widths[k]),
            )
            for k in np.flatnonzero(widths > 0).tolist()
        ]
