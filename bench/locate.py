"""bench locate: the locator beside GeoPandas ``sjoin`` on the same random points, same run."""

from __future__ import annotations

import platform
import time

import geopandas as gpd
import numpy as np

from geo.locate import OUTSIDE, Locator
from geo.model import WGS84, Tier


def run(settings, *, points: int, seed: int) -> dict:
    from dashboard.runtime import grids_for

    grids = grids_for(settings)
    micro = grids.tier(Tier.MICRO)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = micro.total_bounds
    lon = rng.uniform(minx, maxx, points)
    lat = rng.uniform(miny, maxy, points)

    t0 = time.perf_counter()
    locator = Locator(grids)
    build_s = time.perf_counter() - t0
    locator.indices(lon[:1000], lat[:1000])  # warm caches, as a long-running server is

    t0 = time.perf_counter()
    ours = locator.indices(lon, lat)
    ours_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
    joined = gpd.sjoin(pts, micro[["geometry"]], how="left", predicate="intersects")
    sjoin_s = time.perf_counter() - t0

    joined = joined[~joined.index.duplicated(keep="first")]
    theirs = joined["index_right"].fillna(OUTSIDE).astype(np.int64).to_numpy()
    both_inside = (ours != OUTSIDE) & (theirs != OUTSIDE)
    return {
        "benchmark": "locate",
        "points": points,
        "micro_grids": len(locator),
        "inside_share": round(float((ours != OUTSIDE).mean()), 4),
        "locator": {"seconds": round(ours_s, 4), "points_per_s": round(points / ours_s),
                    "index_build_s": round(build_s, 3)},
        "geopandas_sjoin": {"seconds": round(sjoin_s, 4), "points_per_s": round(points / sjoin_s)},
        "ratio": round(sjoin_s / ours_s, 2),
        "disagreements": int((ours != theirs).sum()),
        "disagreements_on_shared_edges": int(((ours != theirs) & both_inside).sum()),
        "threads": 1,
        "machine": f"{platform.machine()} {platform.python_implementation()} "
                   f"{platform.python_version()}",
    }
