"""The demo roster reproduces the seed figures, binds leaders to their grids, and is stable."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from dispatch.events.models import categories
from dispatch.workers.models import (
    LEADER_ROLES,
    MOBILISED_WORKERS,
    PROFESSIONAL_WORKERS,
    TOTAL_WORKERS,
    DutyStatus,
    LeaderTier,
    WorkerKind,
)
from dispatch.workers.roster import (
    COLUMNS,
    demo_roster,
    duty_at,
    generate,
    read_csv,
    roster_path,
    summary,
    write_csv,
)
from geo.model import Tier
from geo.partition import largest_remainder

SEED = 20220921
WEEKDAY_NOON = datetime(2024, 5, 15, 12, 0)  # a Wednesday
NIGHT = datetime(2024, 5, 15, 3, 0)


@pytest.fixture(scope="module")
def roster(demo_grids):
    return generate(demo_grids, seed=SEED)


@pytest.fixture(scope="module")
def micro(demo_grids):
    return demo_grids.tier(Tier.MICRO).set_index("code")


def test_the_seed_figures(roster):
    kinds = [w.kind for w in roster]
    assert len(roster) == TOTAL_WORKERS == 7461
    assert kinds.count(WorkerKind.PROFESSIONAL) == PROFESSIONAL_WORKERS == 3779
    assert kinds.count(WorkerKind.MOBILISED) == MOBILISED_WORKERS == 3682
    assert [w.id for w in roster] == [f"w{n:05d}" for n in range(1, 7462)]
    assert len({w.phone for w in roster}) == len(roster)
    assert all(w.phone.startswith("100") and len(w.phone) == 11 for w in roster)


def test_every_total_and_general_grid_has_one_leader_who_lives_there(roster, demo_grids):
    for tier, count in ((LeaderTier.TOTAL, 147), (LeaderTier.GENERAL, 638)):
        leaders = [w for w in roster if w.leader_tier is tier]
        assert len(leaders) == count
        assert {w.leads for w in leaders} == set(demo_grids.tier(Tier(tier.value))["code"])
    for w in roster:
        if w.leader_tier is None:
            assert w.leads == ""
            continue
        assert w.role in LEADER_ROLES[w.leader_tier]
        assert w.leads in {ref.code for ref in demo_grids.chain(w.grid)}
        if w.leader_tier is LeaderTier.TOTAL:
            assert w.party_member


def test_micro_leaders_lead_where_they_live_and_the_unled_are_the_smallest(roster, micro,
                                                                           demo_grids):
    leaders = [w for w in roster if w.leader_tier is LeaderTier.MICRO]
    assert all(w.leads == w.grid for w in leaders)
    led = {w.leads for w in leaders}
    assert len(led) == len(leaders)
    unled = micro.index.difference(sorted(led))
    assert len(unled) > 0
    assert micro.loc[unled, "households"].max() <= micro.loc[sorted(led), "households"].max()
    assert micro.loc[unled, "households"].mean() < micro.loc[sorted(led), "households"].mean()
    s = summary(roster, demo_grids, at=WEEKDAY_NOON)
    assert s["grids_without_leader"] == {"total": 0, "general": 0, "micro": len(unled)}
    assert s["first_micro_without_leader"] == sorted(unled)[:10]


def test_homes_lie_inside_their_micro_grid(roster, micro):
    polygons = micro.geometry.loc[[w.grid for w in roster]].to_numpy()
    lon = np.array([w.home_lon for w in roster])
    lat = np.array([w.home_lat for w in roster])
    assert shapely.contains_xy(polygons, lon, lat).all()


def test_workers_spread_with_households(roster, micro):
    counts = micro.index.to_series().map(Counter(w.grid for w in roster)).fillna(0)
    expected = largest_remainder(TOTAL_WORKERS, micro["households"].to_numpy())
    assert (counts.to_numpy() == expected).all()
    per_general = counts.groupby(micro["parent_code"]).sum()
    households = micro["households"].groupby(micro["parent_code"]).sum()
    assert np.corrcoef(per_general, households)[0, 1] > 0.9


def test_skills_are_known_event_classes_and_party_share_is_plausible(roster):
    classes = {c.class_code for c in categories().values()}
    assert all(1 <= len(w.skills) <= 3 and set(w.skills) <= classes for w in roster)
    pros = [w for w in roster if w.kind is WorkerKind.PROFESSIONAL]
    share = sum(w.party_member for w in pros) / len(pros)
    assert 0.25 < share < 0.4


def test_generation_is_deterministic(roster, demo_grids):
    assert generate(demo_grids, seed=SEED) == roster
    assert generate(demo_grids, seed=SEED + 1) != roster


def test_the_cached_file_is_an_import_file_and_reads_back_equal(roster, demo_grids, tmp_path):
    first = demo_roster(tmp_path, demo_grids, seed=SEED)
    assert first == roster
    path = roster_path(tmp_path, demo_grids, seed=SEED)
    assert demo_grids.digest in path.name and str(SEED) in path.name
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == TOTAL_WORKERS + 1
    mtime = path.stat().st_mtime_ns
    assert demo_roster(tmp_path, demo_grids, seed=SEED) == roster
    assert path.stat().st_mtime_ns == mtime
    again = tmp_path / "again.csv"
    write_csv(roster[:5], again)
    assert read_csv(again) == roster[:5]


def test_professionals_work_days_and_nobody_is_on_duty_at_3am(roster):
    pros = [w for w in roster if w.kind is WorkerKind.PROFESSIONAL]
    mobilised = [w for w in roster if w.kind is WorkerKind.MOBILISED]
    noon = [duty_at(w, WEEKDAY_NOON) for w in pros]
    assert noon.count(DutyStatus.ON_DUTY) / len(pros) > 0.9
    assert 0 < noon.count(DutyStatus.ON_LEAVE) / len(pros) < 0.1
    assert all(duty_at(w, WEEKDAY_NOON) is DutyStatus.OFF for w in mobilised)
    assert all(duty_at(w, NIGHT) is not DutyStatus.ON_DUTY for w in roster)
    evening = [duty_at(w, WEEKDAY_NOON.replace(hour=19)) for w in mobilised]
    assert 0.2 < evening.count(DutyStatus.ON_DUTY) / len(mobilised) < 0.6
    assert [duty_at(w, WEEKDAY_NOON) for w in pros] == noon
    assert all(w.duty is DutyStatus.OFF for w in roster)


def test_the_command_prints_the_figures_as_json(roster, tmp_path):
    from dashboard.cli import main
    from dispatch.store import Store
    from dispatch.store.server import EmbeddedRedis
    from dispatch.store.workers import WorkerStore

    with EmbeddedRedis(tmp_path / "redis") as server:
        env = {"REDIS_URL": server.url, "GRID_DISPATCH_DATA_DIR": str(tmp_path)}
        result = CliRunner().invoke(main, ["workers", "summary", "--at", "2024-05-15T12:00"],
                                    env=env)
        assert result.exit_code == 0, result.output
        out = json.loads(result.output)
        assert out["source"] == "demo roster (not loaded)"
        assert out["totals"] == {"workers": 7461, "professional": 3779, "mobilised": 3682}
        assert out["by_leader_tier"]["total"] == 147
        assert out["by_leader_tier"]["general"] == 638
        assert out["grids_without_leader"]["total"] == 0
        assert out["grids_without_leader"]["general"] == 0
        assert sum(out["by_duty"].values()) == 7461
        store = Store.from_url(server.url)
        try:  # a site's own roster, once loaded, is what the figures describe
            WorkerStore.of(store).replace_all(roster[:100], actor="test", role="admin")
        finally:
            store.close()
        stored = json.loads(CliRunner().invoke(main, ["workers", "summary"], env=env).output)
        assert stored["source"] == "stored" and stored["totals"]["workers"] == 100


def test_the_demo_loads_its_roster_once_into_an_empty_store(cache_dir, demo_grids, tmp_path):
    from dashboard.runtime import open_runtime
    from dashboard.settings import Settings
    from dispatch.store.server import EmbeddedRedis

    with EmbeddedRedis(tmp_path / "redis") as server:
        runtime = open_runtime(Settings(redis_url=server.url, cache_dir=cache_dir,
                                        data_dir=tmp_path), warm=False)
        try:
            assert runtime.load_demo_roster() == 7461
            assert runtime.load_demo_roster() == 0  # a site's own roster is never replaced
            leader = runtime.workers.leader_of(demo_grids.tier(Tier.TOTAL)["code"].iloc[0])
            assert leader is not None and leader.leader_tier == LeaderTier.TOTAL
        finally:
            runtime.close()
