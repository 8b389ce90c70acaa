"""Which rows fill which parent, for the gap and overhang checks, even in a broken file.

A child with a wrong parent code, an unknown tier or a duplicated parent still covers its own
ground: it counts as covered in every parent of the right tier it lies in, so one run reports
the parent's real gaps alongside the child's field problem. Only a child whose geometry cannot
be used stops its parent's gap check, since its missing area would show up as a gap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import shapely
from numpy.typing import NDArray

from geo.model import Tier
from geo.rows import Rows

_NO_ROW = -1


@dataclass
class Links:
    """Parent row → rows, for the usable parents of a frame."""

    #: Children linked by code to a unique parent: checked for overhangs, and cover it.
    children: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: Every row whose ground counts as covered in the parent, linked by code or not.
    cover: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: Parents with a child whose geometry is unusable: their gaps cannot be told.
    blocked: set[int] = field(default_factory=set)


def link_rows(rows: Rows, good: NDArray, usable: NDArray) -> Links:
    """Links for rows with ``good`` geometry, ``usable`` when the tier is known as well."""
    named = _named_parents(rows)
    links, loose, broken = Links(), [], []
    for i, (tier, parent) in enumerate(zip(rows.tiers, rows.parents, strict=True)):
        if tier is Tier.TOTAL or (tier is None and not parent):
            continue
        p = named[i]
        if usable[i] and p != _NO_ROW and usable[p]:
            links.children[p].append(i)
            links.cover[p].append(i)
        elif good[i]:
            loose.append(i)
        else:
            broken.append(i)
            if p != _NO_ROW:
                links.blocked.add(p)
    for i, p in _parents_under(rows, usable, loose, rows.geoms[loose]):
        links.cover[p].append(i)
    repaired = shapely.make_valid(rows.geoms[broken]) if broken else np.array([], dtype=object)
    for _, p in _parents_under(rows, usable, broken, repaired):
        links.blocked.add(p)
    return links


def _named_parents(rows: Rows) -> list[int]:
    """The row each row's parent code names, when exactly one of a fitting tier has that code."""
    parents_by_code = defaultdict(list)
    for i, (code, tier) in enumerate(zip(rows.codes, rows.tiers, strict=True)):
        if code and tier in (Tier.TOTAL, Tier.GENERAL):
            parents_by_code[code].append(i)
    out = []
    for tier, parent in zip(rows.tiers, rows.parents, strict=True):
        fitting = [
            p for p in parents_by_code.get(parent, [])
            if tier is None or rows.tiers[p] is tier.parent
        ]  # fmt: skip
        out.append(fitting[0] if len(fitting) == 1 else _NO_ROW)
    return out


def _parents_under(
    rows: Rows, usable: NDArray, which: list[int], geoms: NDArray
) -> list[tuple[int, int]]:
    """(row, parent) for each usable parent whose interior the row's geometry reaches into.

    A row of unknown tier may belong in a general or a total grid; either way it only covers
    its own ground, so it counts in both.
    """
    geoms = np.asarray(geoms, dtype=object)
    keep = [k for k, g in enumerate(geoms) if g is not None and not g.is_empty]
    candidates = np.flatnonzero(usable & (rows.tier_values() != Tier.MICRO.value))
    if not keep or not len(candidates):
        return []
    tree = shapely.STRtree(rows.geoms[candidates])
    at, hit = tree.query(geoms[keep], predicate="intersects")
    inside = shapely.relate_pattern(geoms[keep][at], rows.geoms[candidates[hit]], "T********")
    out = []
    for k, j in zip(at[inside], hit[inside], strict=True):
        i, p = which[keep[k]], int(candidates[j])
        if rows.tiers[i] is None or rows.tiers[p] is rows.tiers[i].parent:
            out.append((i, p))
    return out
