"""The roster in memory follows imports; duty is worked out once a minute."""

from __future__ import annotations

from dispatch.events.workflow import ManualClock
from dispatch.store.workers import WorkerStore
from dispatch.workers.cache import DutyCache, RosterCache
from dispatch.workers.models import DutyStatus, LeaderTier, Worker, WorkerRole


def _w(wid: str, grid: str = "51011700100100001", **kw) -> Worker:
    return Worker(id=wid, name="甲", phone="10012345678", role=kw.pop("role", WorkerRole.VOLUNTEER),
                  grid=grid, skills=(), party_member=False, home_lon=103.9, home_lat=30.8, **kw)


def test_an_import_is_seen_at_the_next_check(store):
    workers = WorkerStore.of(store)
    workers.replace_all([_w("c1"), _w("c2", "51011700100100002")], actor="t", role="admin")
    cache = RosterCache(store=workers, check_every_s=0.0)
    assert [w.id for w in cache.in_grid("51011700100100001")] == ["c1"]
    assert cache.get("c2") is not None and cache.leader_of("51011700100100001") is None
    before = workers.version()
    leader = _w("c3", role=WorkerRole.RESIDENT_ACTIVIST, leads="51011700100100001",
                leader_tier=LeaderTier.MICRO)
    workers.replace_all([_w("c1"), leader], actor="t", role="admin")
    assert workers.version() != before
    assert cache.get("c2") is None and cache.leader_of("51011700100100001") == leader
    assert [w.id for w in cache.many(["c3", "nobody", "c1"])] == ["c3", "c1"]


def test_a_cache_checks_the_version_at_most_once_a_period(store):
    workers = WorkerStore.of(store)
    workers.replace_all([_w("d1")], actor="t", role="admin")
    cache = RosterCache(store=workers, check_every_s=3600.0)
    assert cache.get("d1") is not None
    workers.replace_all([_w("d2")], actor="t", role="admin")
    assert cache.get("d1") is not None  # within the period: the copy it has


def test_duty_is_kept_for_the_minute_and_worked_out_again_after():
    clock = ManualClock(t=1_800_000_000.0)
    duty = DutyCache(clock=clock)
    worker = _w("e1")
    first = duty(worker)
    assert isinstance(first, DutyStatus) and duty(worker) is first
    seen = {first}
    for _ in range(24 * 4):  # a day in quarter hours: the shift starts and ends
        clock.advance(900)
        seen.add(duty(worker))
    assert len(seen) >= 2


def test_a_grids_on_duty_count_is_kept_for_the_minute():
    clock = ManualClock(t=1_800_000_000.0)
    duty = DutyCache(clock=clock)
    workers = [_w(f"f{i}") for i in range(5)]
    expected = sum(duty(w) is DutyStatus.ON_DUTY for w in workers)
    assert duty.on_duty_in("51011700100100001", workers) == expected
    assert duty.on_duty_in("51011700100100001", []) == expected  # the minute's count
    clock.advance(60)
    assert duty.on_duty_in("51011700100100001", []) == 0
