"""bench payload: bytes of the served map layers beside ``GeoDataFrame.to_json()``, same run."""

from __future__ import annotations

import gzip
import time

from geo.model import Tier
from geo.payload import build_tier, to_json_bytes


def run(settings) -> dict:
    from dashboard.runtime import grids_for

    grids = grids_for(settings)
    t0 = time.perf_counter()
    tiers = {t: build_tier(grids, t) for t in Tier}
    build_s = time.perf_counter() - t0
    naive = to_json_bytes(grids)
    naive_gz = len(gzip.compress(naive, compresslevel=9, mtime=0))
    served = sum(len(p.body) for p in tiers.values())
    served_gz = sum(len(p.gzipped) for p in tiers.values())
    return {
        "benchmark": "payload",
        "format": "geobuf, 1e-5° precision, coverage-simplified, gzip level 9",
        "tiers": {t.value: {"features": p.features, "bytes": len(p.body),
                            "gzip_bytes": len(p.gzipped), "max_error_m": round(p.max_error_m, 3)}
                  for t, p in tiers.items()},
        "served": {"bytes": served, "gzip_bytes": served_gz, "build_s": round(build_s, 2)},
        "naive_to_json": {"bytes": len(naive), "gzip_bytes": naive_gz},
        "ratio_served_gzip_to_naive_raw": round(served_gz / len(naive), 4),
        "ratio_served_gzip_to_naive_gzip": round(served_gz / naive_gz, 4),
        "ratio_served_raw_to_naive_raw": round(served / len(naive), 4),
        "max_error_m_micro": round(tiers[Tier.MICRO].max_error_m, 3),
    }
