"""Intake refuses or keeps, never crashes: EventIn, ``parse`` and the batch path, for any input.

Whatever a channel sends (any number or string as a coordinate, any unicode, text at and past
each length limit, any time from year 1 to 9999 with any offset), validation either gives a
report within the model's bounds or says what is wrong with pydantic's ValidationError
(intake's IntakeError one level up), and a valid report keeps its values.
"""

from __future__ import annotations

import inspect
import json
import math
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dispatch.access.roles import Actor, Role
from dispatch.events.intake import MAX_BATCH, Fault, Intake, IntakeError, Report, parse
from dispatch.events.models import EventIn, Outcome, Source, categories
from dispatch.store.events import Created, NewEvent
from geo.grids import GridSet
from geo.locate import Locator
from tests.geo.factories import small_grid

CI = settings(deadline=None, derandomize=True, max_examples=150)

# --- what channels send -------------------------------------------------------------------

CODES = sorted(categories())
#: Inside the small test grid (tests.geo.factories): 103.90–103.92 E, 30.80–30.81 N.
INSIDE_LON = st.floats(103.9005, 103.9195)
INSIDE_LAT = st.floats(30.8005, 30.8095)

#: Any number or near-number: nan, ±inf, huge, subnormal, huge ints, numeric-looking text.
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-200, 200),
    st.integers(-(10**400), 10**400),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "103.9", " 30.8 ", "１０３.９",
                     "٣٠", "1_000", "0x10", "", "   "]),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)
#: Text as residents and systems send it: any scalar (no surrogates), control characters,
#: right-to-left marks and scripts, emoji, CJK.
TEXT = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp")), max_size=20),
    st.text(st.sampled_from("\u202e\u200f\u05d0\u0627\U0001f600\U0001f4a9幸福小区3栋\x00\t\n "),
            max_size=40),
)
#: Unicode as the codec sees it: non-BMP, combining marks, nothing a UTF-8 encoder refuses.
UNICODE = st.text(st.characters(codec="utf-8"), min_size=1, max_size=80)


def around(limit: int) -> st.SearchStrategy[str]:
    """Text one short of, at and one past ``limit`` characters, sometimes padded with
    whitespace the model strips, in one- and four-byte characters."""
    return st.builds(
        lambda n, ch, pad: pad + ch * n + pad,
        st.sampled_from([limit - 1, limit, limit + 1]).filter(lambda n: n >= 0),
        st.sampled_from(["x", "汉", "\U0001f600"]),
        st.sampled_from(["", " ", "\n\t"]),
    )


OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
DATETIMES = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31),
                         timezones=st.none() | OFFSETS)
TIMES = st.one_of(
    DATETIMES,
    DATETIMES.map(datetime.isoformat),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**20), 10**20),
    st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                     "2024-02-30T00:00:00", "2024-05-01T25:00:00", "2024-05-01 09:30",
                     "2024年5月1日", "now", ""]),
    TEXT,
)


#: What a field may hold when a channel gets it wrong.
WILD: dict[str, st.SearchStrategy[Any]] = {
    "category": st.one_of(TEXT, NUMBERS, st.sampled_from(["1400", "140011", "00000"])),
    "severity": st.one_of(TEXT, NUMBERS),
    "lon": NUMBERS,
    "lat": NUMBERS,
    "description": st.one_of(TEXT, UNICODE, around(2000)),
    "address": st.one_of(TEXT, around(200)),
    "building": st.one_of(TEXT, around(100)),
    "reporter_name": st.one_of(TEXT, around(50)),
    "reporter_phone": st.one_of(st.from_regex(r"\A\+?[0-9][0-9 \-]{5,19}\Z"), TEXT, around(20)),
    "attachments": st.lists(st.one_of(st.just("https://example.com/p.jpg"), TEXT), max_size=12),
    "external_id": st.one_of(TEXT, around(64)),
    "occurred_at": TIMES,
    "extra": TEXT,
}
VALID = st.fixed_dictionaries(
    {"category": st.sampled_from(CODES), "lon": st.floats(-180, 180),
     "lat": st.floats(-90, 90),
     "description": st.text(min_size=1, max_size=2000).map(str.strip).filter(bool)},
    optional={
        "severity": st.sampled_from(["urgent", "routine", "complex"]),
        "address": st.text(max_size=200).map(str.strip),
        "building": st.text(max_size=100).map(str.strip),
        "reporter_name": st.text(max_size=50).map(str.strip),
        "reporter_phone": st.from_regex(r"\A\+?[0-9][0-9 \-]{4,17}[0-9]\Z"),
        "external_id": st.text(max_size=64).map(str.strip),
        # the model keeps report times to 2000–2100 (a year-1 or year-9999 time is a probe)
        "occurred_at": st.datetimes(min_value=datetime(2000, 1, 2),
                                    max_value=datetime(2100, 12, 30),
                                    timezones=st.none() | OFFSETS),
    },
)
_GONE = object()


def perturbed(valid: st.SearchStrategy[dict[str, Any]],
              wild: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid input with up to three of its fields replaced by wild values or dropped:
    inputs all wild would almost never get past the first check to the later ones."""

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        out = dict(draw(valid))
        for name in draw(st.lists(st.sampled_from(sorted(wild)), max_size=3, unique=True)):
            value = draw(st.one_of(wild[name], st.just(_GONE)))
            if value is _GONE:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    return build()


PAYLOADS = perturbed(VALID, WILD)


def within_bounds(d: EventIn) -> None:
    assert d.category in categories()
    assert math.isfinite(d.lon) and -180 <= d.lon <= 180
    assert math.isfinite(d.lat) and -90 <= d.lat <= 90
    assert 1 <= len(d.description) <= 2000
    assert d.description == d.description.strip()
    for name, limit in (("address", 200), ("building", 100), ("reporter_name", 50),
                        ("reporter_phone", 20), ("external_id", 64)):
        assert len(getattr(d, name)) <= limit, name
    assert not d.reporter_phone or re.fullmatch(r"\+?[0-9][0-9 \-]{5,19}", d.reporter_phone)
    assert len(d.attachments) <= 10


@CI
@given(PAYLOADS)
def test_event_in_validates_within_bounds_or_says_why(payload: dict[str, Any]) -> None:
    try:
        data = EventIn.model_validate(payload)
    except ValidationError as exc:
        assert exc.errors()
        return
    within_bounds(data)


@CI
@given(PAYLOADS)
def test_event_in_from_json_text_validates_within_bounds_or_says_why(
        payload: dict[str, Any]) -> None:
    """The same, for a body arriving as JSON text (NaN, Infinity and all)."""
    try:
        raw = json.dumps(payload, default=str)
    except ValueError:  # integers past the interpreter's digit limit: no JSON body has them
        return
    try:
        data = EventIn.model_validate_json(raw)
    except ValidationError:
        return
    within_bounds(data)


@CI
@given(VALID)
def test_a_valid_report_keeps_its_values(payload: dict[str, Any]) -> None:
    data = EventIn.model_validate(payload)
    dumped = data.model_dump(exclude_unset=True)
    assert {k: getattr(v, "value", v) for k, v in dumped.items()} == payload
    assert EventIn.model_validate_json(data.model_dump_json()) == data
    assert EventIn.model_validate(data.model_dump()) == data


# --- parse: the same, as intake's own error ----------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=10,
)


@CI
@given(st.one_of(PAYLOADS, JSON_VALUES, st.dictionaries(st.text(max_size=12), JSON_VALUES,
                                                       max_size=6)),
       st.none() | st.integers(0, MAX_BATCH))
def test_parse_raises_only_intake_errors_naming_fields(payload: object,
                                                      index: int | None) -> None:
    try:
        data = parse(payload, index=index)  # type: ignore[arg-type]
    except IntakeError as exc:
        assert exc.problems
        assert all(isinstance(p.field, str) and p.field and isinstance(p.message, str)
                   and p.index == index for p in exc.problems)
        assert exc.fault in (Fault.MALFORMED, Fault.INVALID)
        if not isinstance(payload, dict):
            assert exc.fault is Fault.MALFORMED
        return
    within_bounds(data)


# --- the batch path -------------------------------------------------------------------------


class _Store:
    """Keeps what intake would write; every event is new."""

    def __init__(self) -> None:
        self.written: list[NewEvent] = []

    def create_many(self, events: list[NewEvent]) -> list[Created]:
        self.written += events
        return [Created(id=str(i), outcome=Outcome.CREATED) for i in range(len(events))]


class _Vault:
    def seal(self, field: str, plain: str) -> str:
        return f"sealed:{plain}" if plain else ""


class _Clock:
    def now(self) -> float:
        return 1_780_000_000.0


@pytest.fixture(scope="module")
def locator() -> Locator:
    return Locator(GridSet.from_frame(small_grid(), synthetic=True, source="test"), cell_m=50)


def _intake(store: _Store, locator: Locator) -> Intake:
    kwargs: dict[str, Any] = {"store": store, "locator": locator, "clock": _Clock()}
    if "vault" in inspect.signature(Intake).parameters:
        kwargs["vault"] = _Vault()
    return Intake(**kwargs)


REPORTS = st.builds(
    lambda payload, inside, lon, lat, source: Report(
        data=EventIn.model_validate(payload | ({"lon": lon, "lat": lat} if inside else {})),
        source=source, extra={"note": payload["description"][:20]}),
    VALID, st.booleans(), INSIDE_LON, INSIDE_LAT, st.sampled_from(list(Source)),
)
ACTOR = Actor("tester", Role.OPERATOR)


@CI
@given(st.lists(REPORTS, min_size=1, max_size=8))
def test_a_batch_is_stored_whole_or_refused_with_each_item_named(
        locator: Locator, reports: list[Report]) -> None:
    store = _Store()
    try:
        created = _intake(store, locator).submit_many(reports, actor=ACTOR)
    except IntakeError as exc:
        assert not store.written
        assert all(p.field == "lon,lat" for p in exc.problems)
        outside = [i for i, r in enumerate(reports)
                   if locator.index_of(r.data.lon, r.data.lat) < 0]
        named = [p.index for p in exc.problems]
        assert named == (outside if len(reports) > 1 else [None])
        return
    assert len(created) == len(store.written) == len(reports)
    for report, event in zip(reports, store.written, strict=True):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in event.fields.items())
        assert all(v.encode() for v in event.fields.values() if v)  # the store writes UTF-8
        assert float(event.fields["lon"]) == report.data.lon
        assert float(event.fields["lat"]) == report.data.lat
        assert event.fields["category"] == report.data.category
        assert len(event.fields["description"]) <= len(report.data.description)
        assert event.due is None or event.due >= event.created
        json.loads(event.fields.get("extra", "{}").removeprefix("sealed:"))


@settings(deadline=None, derandomize=True, max_examples=5)
@given(REPORTS, st.integers(MAX_BATCH + 1, MAX_BATCH + 50))
def test_too_large_a_batch_stores_nothing(locator: Locator, report: Report, n: int) -> None:
    store = _Store()
    with pytest.raises(IntakeError) as caught:
        _intake(store, locator).submit_many([report] * n, actor=ACTOR)
    assert caught.value.fault is Fault.TOO_LARGE
    assert not store.written
