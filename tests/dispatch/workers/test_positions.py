"""Workers' positions: one per worker, newest wins, searched by distance, stale after 10 min."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from dispatch.events.workflow import ManualClock
from dispatch.store.positions import PositionStore
from dispatch.workers.positions import (
    STALE_AFTER_S,
    PositionBook,
    PositionError,
    PositionIn,
    parse,
)

T0 = 1_800_000_000.0
HERE = (103.8930, 30.8060)


@pytest.fixture
def book(store):
    return PositionBook(store=PositionStore.of(store), clock=ManualClock(t=T0))


def _wid() -> str:
    return f"pos-{uuid.uuid4().hex[:8]}"


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_the_newest_report_wins_and_a_late_resend_is_ignored(book):
    wid = _wid()
    assert book.report(wid, PositionIn(lon=HERE[0], lat=HERE[1], accuracy_m=12, at=_at(T0 - 5)))
    late = PositionIn(lon=103.95, lat=30.75, accuracy_m=30, at=_at(T0 - 60))
    assert not book.report(wid, late)
    seen = book.of([wid])[wid]
    assert (round(seen.lon, 4), round(seen.lat, 4)) == HERE and seen.accuracy_m == 12
    assert seen.age_s == pytest.approx(5, abs=0.01) and not seen.stale


def test_near_lists_workers_nearest_first_with_their_distance(book):
    close, far, away = _wid(), _wid(), _wid()
    book.report(close, PositionIn(lon=HERE[0] + 0.001, lat=HERE[1]))  # about 95 m east
    book.report(far, PositionIn(lon=HERE[0] + 0.01, lat=HERE[1]))  # about 950 m
    book.report(away, PositionIn(lon=HERE[0] + 0.2, lat=HERE[1]))  # about 19 km
    found = [s for s in book.near(lon=HERE[0], lat=HERE[1], radius_m=2_000, count=500)
             if s.worker_id in (close, far, away)]
    assert [s.worker_id for s in found] == [close, far]
    assert 80 < found[0].distance_m < 110 and 900 < found[1].distance_m < 1_000


def test_a_position_goes_stale_after_ten_minutes(store):
    clock = ManualClock(t=T0)
    book = PositionBook(store=PositionStore.of(store), clock=clock)
    wid = _wid()
    book.report(wid, PositionIn(lon=HERE[0], lat=HERE[1]))
    clock.advance(STALE_AFTER_S + 1)
    assert book.of([wid])[wid].stale


@pytest.mark.parametrize(("body", "field"), [
    ({"lon": 200, "lat": 30.8}, "lon"), ({"lon": 103.9, "lat": "north"}, "lat"),
    ({"lon": 103.9, "lat": 30.8, "accuracy_m": -1}, "accuracy_m"),
    ({"lon": 103.9, "lat": 30.8, "accuracy_m": float("nan")}, "accuracy_m"),
    ({"lon": 103.9, "lat": 30.8, "speed": 3}, "speed"), ([], "body")])
def test_a_bad_report_names_its_field(body, field):
    with pytest.raises(PositionError) as err:
        parse(body)
    assert err.value.field == field


def test_reports_from_the_future_or_a_day_old_are_refused(book):
    for at in (_at(T0 + 3600), _at(T0 - 2 * 86_400)):
        with pytest.raises(PositionError) as err:
            book.report(_wid(), PositionIn(lon=HERE[0], lat=HERE[1], at=at))
        assert err.value.field == "at"


def test_one_member_per_worker_however_often_it_reports(book, store):
    from dispatch.store import keys

    wid = _wid()
    before = store.events._r.zcard(keys.WORKER_POSITIONS)
    for i in range(20):
        book.report(wid, PositionIn(lon=HERE[0] + i * 1e-4, lat=HERE[1], at=_at(T0 - 20 + i)))
    assert store.events._r.zcard(keys.WORKER_POSITIONS) == before + 1
