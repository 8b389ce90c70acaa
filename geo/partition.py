"""Planar partition helpers for synthetic grids: Voronoi cells, Lloyd relaxation, bisection.

All coordinates here are metres in a local projected CRS. The partition is built bottom-up:
micro cells first, and every coarser grid is the exact union of its children, so nesting,
coverage and shared edges hold by construction rather than by tolerance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


def sample_in(polygon: BaseGeometry, n: int, rng: np.random.Generator) -> NDArray:
    """``n`` uniform random points inside ``polygon`` (rejection sampling on its bbox)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    out: list[NDArray] = []
    have = 0
    while have < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(max(n, 1024) * 2, 2))
        xy = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        out.append(xy)
        have += len(xy)
    return np.concatenate(out)[:n]


def lloyd(
    seeds: NDArray, points: NDArray, weights: NDArray, *, iterations: int
) -> NDArray:
    """Weighted Lloyd relaxation of ``seeds`` over sample ``points``: evens out cell sizes.

    A seed that attracts no points stays where it is.
    """
    seeds = seeds.copy()
    for _ in range(iterations):
        _, owner = cKDTree(seeds).query(points)
        mass = np.bincount(owner, weights=weights, minlength=len(seeds))
        sx = np.bincount(owner, weights=weights * points[:, 0], minlength=len(seeds))
        sy = np.bincount(owner, weights=weights * points[:, 1], minlength=len(seeds))
        moved = mass > 0
        seeds[moved, 0] = sx[moved] / mass[moved]
        seeds[moved, 1] = sy[moved] / mass[moved]
    return seeds


def voronoi_cells(seeds: NDArray, domain: BaseGeometry) -> NDArray:
    """Voronoi cell of each seed (same order), clipped to ``domain``, each a single Polygon.

    A clipped cell can fall apart where the domain is concave; its detached pieces are
    merged into the neighbour they share the longest edge with, so every cell stays one
    contiguous polygon and the cells still cover the domain exactly.
    """
    points = shapely.multipoints(seeds)
    regions = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=domain))
    # voronoi_polygons does not keep input order: match regions back to their seeds.
    tree = shapely.STRtree(regions)
    seed_idx, region_idx = tree.query(shapely.points(seeds), predicate="intersects")
    order = np.empty(len(seeds), dtype=np.int64)
    order[seed_idx] = region_idx
    cells = shapely.intersection(regions[order], domain, grid_size=0.01)
    return _merge_fragments(cells, seeds)


def _merge_fragments(cells: NDArray, seeds: NDArray) -> NDArray:
    cells = cells.copy()
    fragments: list[BaseGeometry] = []
    for i, cell in enumerate(cells):
        if shapely.get_type_id(cell) == 6:  # MultiPolygon
            parts = shapely.get_parts(cell)
            keep = parts[np.argmax(shapely.area(parts))]
            cells[i] = keep
            fragments.extend(p for p in parts if p is not keep)
    if not fragments:
        return cells
    tree = shapely.STRtree(cells)
    for frag in fragments:
        candidates = tree.query(frag, predicate="intersects")
        shared = shapely.length(shapely.intersection(cells[candidates].copy(), frag.boundary))
        target = candidates[int(np.argmax(shared))]
        cells[target] = shapely.union(cells[target], frag, grid_size=0.01)
    return cells


def bisect_groups(
    xy: NDArray, weights: NDArray, k: int, rng: np.random.Generator, *, jitter: float = 0.12
) -> NDArray:
    """Split points into exactly ``k`` contiguous groups of similar total weight.

    Recursive weighted bisection across the longer axis, turned by a small random angle
    and cut a little off-centre so the result reads as blocks, not as a lattice.
    Returns a group label 0..k-1 per point; every group has at least one point.
    """
    if k > len(xy):
        raise ValueError(f"cannot split {len(xy)} cells into {k} groups")
    labels = np.zeros(len(xy), dtype=np.int64)
    _bisect(np.arange(len(xy)), xy, weights, k, 0, labels, rng, jitter)
    return labels


def _bisect(
    idx: NDArray[np.int64],
    xy: NDArray,
    weights: NDArray,
    k: int,
    first_label: int,
    labels: NDArray[np.int64],
    rng: np.random.Generator,
    jitter: float,
) -> None:
    if k == 1:
        labels[idx] = first_label
        return
    pts = xy[idx]
    span = pts.max(axis=0) - pts.min(axis=0)
    angle = (0.0 if span[0] >= span[1] else np.pi / 2) + rng.uniform(-0.35, 0.35)
    proj = pts[:, 0] * np.cos(angle) + pts[:, 1] * np.sin(angle)
    order = idx[np.argsort(proj, kind="stable")]
    k_left = k // 2
    share = k_left / k * (1 + rng.uniform(-jitter, jitter))
    cum = np.cumsum(weights[order])
    cut = int(np.searchsorted(cum, share * cum[-1]))
    cut = min(max(cut, k_left), len(order) - (k - k_left))  # each side keeps enough cells
    _bisect(order[:cut], xy, weights, k_left, first_label, labels, rng, jitter)
    _bisect(order[cut:], xy, weights, k - k_left, first_label + k_left, labels, rng, jitter)


def largest_remainder(total: int, weights: NDArray, *, minimum: int = 0) -> NDArray:
    """Integers proportional to ``weights`` that sum exactly to ``total``, each ≥ ``minimum``."""
    weights = np.asarray(weights, dtype=float)
    n = len(weights)
    if total < minimum * n:
        raise ValueError(f"total {total} is below {minimum} for each of {n} parts")
    spare = total - minimum * n
    raw = weights / weights.sum() * spare
    out = np.floor(raw).astype(np.int64)
    rest = spare - int(out.sum())
    out[np.argsort(-(raw - out), kind="stable")[:rest]] += 1
    return out + minimum


def reading_order(xy: NDArray, band: float) -> NDArray:
    """Indices sorted north to south in bands of height ``band``, west to east inside a band."""
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / band)
    return np.lexsort((xy[:, 0], rows))


def adjacency(cells: NDArray, *, min_shared: float = 1.0) -> csr_matrix:
    """Sparse cell adjacency: cells that share an edge longer than ``min_shared`` metres."""
    from scipy.sparse import coo_matrix

    tree = shapely.STRtree(cells)
    i, j = tree.query(cells, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(cells[i]), shapely.boundary(cells[j]))
    )
    edge = shared > min_shared
    i, j = i[edge], j[edge]
    n = len(cells)
    m = coo_matrix((np.ones(2 * len(i), dtype=bool), (np.r_[i, j], np.r_[j, i])), shape=(n, n))
    return m.tocsr()


def make_contiguous(labels: NDArray, adj: csr_matrix, *, rounds: int = 6) -> NDArray:
    """Hand detached pieces of a group to the neighbouring group they touch most.

    Bisection can cut a group into pieces where the domain is concave; a grid must be one
    piece. The largest piece of each group stays; the others join a neighbour. Group
    counts are unchanged (the largest piece always remains).
    """
    from scipy.sparse.csgraph import connected_components

    labels = labels.copy()
    for _ in range(rounds):
        moved = False
        for g in np.unique(labels):
            members = np.flatnonzero(labels == g)
            n, comp = connected_components(adj[members][:, members], directed=False)
            if n == 1:
                continue
            biggest = np.argmax(np.bincount(comp))
            for c in range(n):
                if c == biggest:
                    continue
                piece = members[comp == c]
                around = labels[adj[piece].indices]
                around = around[around != g]
                if len(around):
                    labels[piece] = np.bincount(around).argmax()
                    moved = True
        if not moved:
            break
    return labels
