"""Ranking who should handle an event: grid membership before distance; duty, load, skill,
staleness and coverage move a worker within that; every candidate says why in words."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dispatch.tasks.recommend import (
    Place,
    Relation,
    WeightsError,
    load_weights,
    metres,
    rank,
)
from dispatch.workers.models import DutyStatus, LeaderTier, Worker, WorkerRole
from dispatch.workers.positions import Seen

MICRO, GENERAL, TOTAL = "51011700700703008", "51011700700703", "51011700700700"
OTHER_MICRO = "51011700700703009"
PLACE = Place(micro=MICRO, general=GENERAL, total=TOTAL, lon=103.90, lat=30.80,
              category="11001")  # a safety hazard (class 11, 安全隐患)
WEIGHTS = load_weights()


def _worker(wid: str, *, grid: str = OTHER_MICRO, role: WorkerRole = WorkerRole.GRID_WORKER,
            leads: str = "", tier: LeaderTier | None = None, duty=DutyStatus.ON_DUTY,
            skills: tuple[str, ...] = (), lon: float = 103.90, lat: float = 30.80) -> Worker:
    return Worker(id=wid, name="测试", phone="10000000000", role=role, grid=grid, leads=leads,
                  leader_tier=tier, duty=duty, skills=skills, home_lon=lon, home_lat=lat)


def _seen(wid: str, metres_east: float, *, age_s: float = 30.0) -> Seen:
    return Seen(wid, 103.90 + metres_east / 95_500, 30.80, 10.0, age_s)


def _rank(workers, *, seen=None, tasks=None, on_duty=None, **kw):
    return rank(PLACE, workers, weights=WEIGHTS, seen=seen or {}, open_tasks=tasks or {},
                on_duty_in_grid=on_duty or {OTHER_MICRO: 5, MICRO: 5}, **kw)


def test_grid_membership_comes_before_distance():
    leader = _worker("leader", grid=MICRO, role=WorkerRole.RESIDENT_ACTIVIST, leads=MICRO,
                     tier=LeaderTier.MICRO)
    member = _worker("member", grid=MICRO)
    general = _worker("general", leads=GENERAL, tier=LeaderTier.GENERAL,
                      role=WorkerRole.COMMUNITY_STAFF)
    total = _worker("total", leads=TOTAL, tier=LeaderTier.TOTAL, role=WorkerRole.COMMUNITY_STAFF)
    stranger = _worker("stranger")
    seen = {"leader": _seen("leader", 2_000), "member": _seen("member", 1_500),
            "general": _seen("general", 800), "total": _seen("total", 500),
            "stranger": _seen("stranger", 20)}
    ranked = _rank([stranger, total, general, member, leader], seen=seen)
    assert [c.worker.id for c in ranked] == ["leader", "member", "general", "total", "stranger"]
    assert [c.relation for c in ranked] == list(Relation)


def test_among_nearby_workers_the_nearer_ranks_first():
    near, far = _worker("near"), _worker("far")
    ranked = _rank([far, near], seen={"near": _seen("near", 200), "far": _seen("far", 3_000)})
    assert [c.worker.id for c in ranked] == ["near", "far"]
    assert ranked[0].distance_m == pytest.approx(200, rel=0.02)


@pytest.mark.parametrize(("change", "why"), [
    ({"duty": DutyStatus.BUSY}, "busy"), ({"duty": DutyStatus.OFF}, "off duty")])
def test_duty_status_lowers_a_worker(change, why):
    a, b = _worker("a", grid=MICRO), _worker("b", grid=MICRO, **change)
    ranked = _rank([b, a], seen={"a": _seen("a", 100), "b": _seen("b", 100)})
    assert [c.worker.id for c in ranked] == ["a", "b"] and why in ranked[1].reason


def test_a_worker_on_leave_falls_below_any_nearby_stranger():
    away = _worker("away", grid=MICRO, duty=DutyStatus.ON_LEAVE)
    ranked = _rank([away, _worker("stranger")])
    assert ranked[-1].worker.id == "away"


def test_open_tasks_weigh_a_worker_down():
    idle, loaded = _worker("idle", grid=MICRO), _worker("loaded", grid=MICRO)
    ranked = _rank([loaded, idle], tasks={"loaded": 3})
    assert [c.worker.id for c in ranked] == ["idle", "loaded"]
    assert "3 open tasks" in ranked[1].reason and "0 open tasks" in ranked[0].reason


def test_a_matching_skill_lifts_a_worker_and_is_named():
    plain, skilled = _worker("plain", grid=MICRO), _worker("skilled", grid=MICRO,
                                                         skills=("11",))
    ranked = _rank([plain, skilled])
    assert ranked[0].worker.id == "skilled" and ranked[0].skill
    assert f"skill: {ranked[0].skill}" in ranked[0].reason


def test_a_stale_position_weighs_a_worker_down_and_says_so():
    fresh, stale = _worker("fresh"), _worker("stale")
    ranked = _rank([stale, fresh], seen={"fresh": _seen("fresh", 300),
                                         "stale": _seen("stale", 300, age_s=1_800)})
    assert [c.worker.id for c in ranked] == ["fresh", "stale"]
    assert ranked[1].stale and "30 min old" in ranked[1].reason


def test_taking_the_only_on_duty_worker_out_of_another_grid_costs():
    lone, spare = _worker("lone", grid="51011700700703001"), _worker("spare")
    ranked = _rank([lone, spare], on_duty={"51011700700703001": 1, OTHER_MICRO: 4})
    assert [c.worker.id for c in ranked] == ["spare", "lone"]
    assert "only one on duty in 51011700700703001" in ranked[1].reason


def test_the_reason_reads_like_the_operator_expects():
    leader = _worker("leader", grid=MICRO, role=WorkerRole.PARTY_MEMBER, leads=MICRO,
                     tier=LeaderTier.MICRO, skills=("11",))
    [c] = _rank([leader], seen={"leader": _seen("leader", 240)}, tasks={"leader": 1})
    assert c.reason.startswith(f"micro-grid leader of {MICRO} · 240 m · on duty · 1 open task")
    assert "skill: " in c.reason
    assert c.reason_zh.startswith(f"{MICRO} 微网格长 · 240 米 · 在岗 · 在办 1 件 · 专长：")


def test_ties_break_by_distance_then_id_so_the_order_is_stable():
    twins = [_worker(w) for w in ("b", "a", "c")]
    first = [c.worker.id for c in _rank(twins)]
    assert first == ["a", "b", "c"] == [c.worker.id for c in _rank(list(reversed(twins)))]


def test_weights_come_from_a_file_a_site_may_replace(tmp_path: Path):
    text = (Path(__file__).parents[3] / "data" / "recommend.toml").read_text(encoding="utf-8")
    heavy = tmp_path / "w.toml"
    heavy.write_text(text.replace("per_open_task = -12.0", "per_open_task = -500.0"),
                     encoding="utf-8")
    assert load_weights(heavy).per_open_task == -500.0
    broken = tmp_path / "b.toml"
    broken.write_text(text.replace("match = 20.0", "match = \"lots\""), encoding="utf-8")
    with pytest.raises(WeightsError, match="not a finite number"):
        load_weights(broken)
    missing = tmp_path / "m.toml"
    missing.write_text(text.replace("stale = -15.0", ""), encoding="utf-8")
    with pytest.raises(WeightsError, match="missing weight 'stale'"):
        load_weights(missing)


def test_distance_is_great_circle_metres():
    assert metres(103.9, 30.8, 103.9, 30.8) == 0
    assert metres(103.9, 30.8, 103.9, 30.809) == pytest.approx(1_000.8, rel=1e-3)
    assert replace(PLACE, lon=0).lon == 0


def test_the_recommender_gathers_grid_leaders_members_and_the_nearest(store, demo_grids):
    from dispatch.events.workflow import ManualClock
    from dispatch.store import keys
    from dispatch.store.candidates import CandidateStore
    from dispatch.store.positions import PositionStore
    from dispatch.store.workers import WorkerStore
    from dispatch.tasks.recommender import Recommender
    from dispatch.workers.cache import RosterCache
    from dispatch.workers.positions import PositionBook, PositionIn
    from geo.model import Tier

    micro = demo_grids.tier(Tier.MICRO).iloc[321]
    chain = {r.tier: r.code for r in demo_grids.chain(micro["code"])}
    point = micro.geometry.representative_point()
    place = Place(micro=micro["code"], general=chain["general"], total=chain["total"],
                  lon=point.x, lat=point.y, category="11001")
    other = demo_grids.tier(Tier.MICRO).iloc[4000]["code"]
    roster = [
        _worker("rec-leader", grid=place.micro, role=WorkerRole.RESIDENT_ACTIVIST,
                leads=place.micro, tier=LeaderTier.MICRO, lon=point.x, lat=point.y),
        _worker("rec-general", grid=other, role=WorkerRole.COMMUNITY_STAFF,
                leads=place.general, tier=LeaderTier.GENERAL, lon=point.x + 0.05, lat=point.y),
        _worker("rec-near", grid=other, lon=point.x + 0.02, lat=point.y),
        _worker("rec-far", grid=other, lon=point.x + 0.3, lat=point.y),
    ]
    WorkerStore.of(store).replace_all(roster, actor="test", role="admin")
    clock = ManualClock(t=1_800_000_000.0)
    book = PositionBook(store=PositionStore.of(store), clock=clock)
    book.report("rec-near", PositionIn(lon=point.x + 0.003, lat=point.y))  # ~290 m
    book.report("rec-far", PositionIn(lon=point.x + 0.3, lat=point.y))  # ~29 km: not searched
    store._r.hset(keys.TASKS_OPEN_COUNTS, mapping={"rec-near": 2, "rec-leader": 0})
    found = Recommender(workers=WorkerStore.of(store), positions=book, weights=WEIGHTS,
                        gather=CandidateStore.of(store)).for_place(place)
    assert [c.worker.id for c in found] == ["rec-leader", "rec-general", "rec-near"]
    assert found[0].reason.startswith(f"micro-grid leader of {place.micro}")
    assert 250 < found[2].distance_m < 330 and "from home" not in found[2].reason
    assert found[2].open_tasks == 2
    # the same ranking from the roster in memory
    one_read = Recommender(workers=RosterCache(store=WorkerStore.of(store)), positions=book,
                           weights=WEIGHTS, gather=CandidateStore.of(store)).for_place(place)
    assert one_read == found


def test_a_site_points_the_recommender_at_its_own_weights(redis_server, cache_dir, tmp_path):
    from dashboard.runtime import open_runtime
    from dashboard.settings import Settings

    own = tmp_path / "weights.toml"
    own.write_text((Path(__file__).parents[3] / "data" / "recommend.toml").read_text(
        encoding="utf-8").replace("match = 20.0", "match = 55.0"), encoding="utf-8")
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path, recommend_file=own), warm=False,
                           load_grids=False)
    try:
        assert runtime.recommender.weights.skill_match == 55.0
    finally:
        runtime.close()
