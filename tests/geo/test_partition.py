"""Partition helpers: exact integer shares, exact group counts, one-piece groups."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo.partition import (
    adjacency,
    bisect_groups,
    largest_remainder,
    make_contiguous,
    voronoi_cells,
)


@given(
    total=st.integers(0, 10_000),
    weights=st.lists(st.floats(0.01, 1000), min_size=1, max_size=40),
    minimum=st.integers(0, 3),
)
def test_largest_remainder_sums_exactly(total, weights, minimum):
    if total < minimum * len(weights):
        return
    out = largest_remainder(total, np.array(weights), minimum=minimum)
    assert out.sum() == total
    assert (out >= minimum).all()


@given(n=st.integers(1, 300), k=st.integers(1, 40), seed=st.integers(0, 2**32 - 1))
def test_bisect_gives_exactly_k_nonempty_groups(n, k, seed):
    if k > n:
        return
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (n, 2))
    labels = bisect_groups(xy, rng.uniform(0.1, 2, n), k, rng)
    assert sorted(set(labels.tolist())) == list(range(k))


def test_voronoi_cells_partition_a_concave_domain():
    rng = np.random.default_rng(3)
    domain = shapely.Polygon(
        [
            (0, 0),
            (1000, 0),
            (1000, 1000),
            (600, 1000),
            (600, 300),
            (400, 300),
            (400, 1000),
            (0, 1000),
        ]
    )
    seeds = np.array(
        [p for p in rng.uniform(0, 1000, (400, 2)) if shapely.contains_xy(domain, *p)]
    )[:120]
    cells = voronoi_cells(seeds, domain)
    assert len(cells) == len(seeds)
    assert (shapely.get_type_id(cells) == 3).all()
    assert abs(shapely.area(cells).sum() - domain.area) < 1e-3
    # each cell still holds its own seed unless a fragment merge moved nothing there
    assert shapely.contains_xy(cells, seeds[:, 0], seeds[:, 1]).mean() > 0.95


def test_make_contiguous_reattaches_detached_pieces():
    # Five unit squares in a row; group 0 owns squares 0 and 2 (split by group 1's square 1).
    cells = np.array([shapely.box(i, 0, i + 1, 1) for i in range(5)])
    labels = np.array([0, 1, 0, 1, 1])
    fixed = make_contiguous(labels, adjacency(cells, min_shared=0.5))
    assert sorted(set(fixed.tolist())) == [0, 1]
    for g in (0, 1):
        members = np.flatnonzero(fixed == g)
        assert members.max() - members.min() + 1 == len(members)  # one run of squares
