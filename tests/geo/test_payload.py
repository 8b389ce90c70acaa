"""Served map layers: small, faithful to within metres, shared edges still shared."""

from __future__ import annotations

import gzip

import pytest
import shapely

from geo.crs import CoordSystem, local_metric_crs
from geo.model import Tier
from geo.payload import build_tier, decode, to_json_bytes


@pytest.fixture(scope="module")
def micro(demo_grids):
    return build_tier(demo_grids, Tier.MICRO)


def test_micro_tier_roundtrips_with_codes_and_names(micro, demo_grids):
    served = decode(micro.body)
    original = demo_grids.tier(Tier.MICRO)
    assert list(served["code"]) == list(original["code"])
    assert list(served["name"]) == list(original["name"])
    assert gzip.decompress(micro.gzipped) == micro.body


def test_simplification_keeps_the_coverage_and_the_error_small(micro):
    served = decode(micro.body).to_crs(local_metric_crs(103.88, 30.84))
    assert shapely.coverage_is_valid(served.geometry.to_numpy())
    assert served.is_valid.all()
    assert micro.max_error_m <= 5.0


def test_served_bytes_are_a_fraction_of_naive_geojson(demo_grids, micro):
    naive = to_json_bytes(demo_grids)
    served = sum(len(build_tier(demo_grids, t).gzipped) for t in Tier)
    assert served < 0.15 * len(naive)


def test_gcj02_display_shifts_the_overlay(demo_grids):
    wgs = decode(build_tier(demo_grids, Tier.TOTAL).body)
    gcj = decode(build_tier(demo_grids, Tier.TOTAL, display=CoordSystem.GCJ02).body)
    metric = local_metric_crs(103.88, 30.84)
    shift = wgs.to_crs(metric).centroid.distance(gcj.to_crs(metric).centroid)
    assert 200 < shift.median() < 800  # GCJ-02 is hundreds of metres off in Chengdu
