"""Every channel's intake refuses or keeps, never crashes, for any input it can be sent.

Open311 forms, 12345 hotline files (any bytes, CSV or JSON lines, UTF-8 or GBK), IoT alarms
and device registrations, and resident QR-form posts: each gives a report within EventIn's
bounds or the channel's own documented error, and a valid input keeps its values.
"""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import localtime
from dispatch.channels.hotline.orders import HotlineImportError, reports_from
from dispatch.channels.hotline.read import COLUMNS, HotlineFormat, decode, detect_format, read_rows
from dispatch.channels.iot.alarms import alarm_report, describe
from dispatch.channels.iot.devices import (
    FIRST_YEAR,
    LAST_YEAR,
    AlarmIn,
    Device,
    DeviceIn,
    validate,
)
from dispatch.channels.open311.intake import MAX_EMAIL, report_from_form
from dispatch.channels.open311.spec import Open311Error
from dispatch.channels.resident.form import (
    CHOICES,
    MAX_ACCURACY_M,
    GridCodeError,
    qr_grid,
    read_report,
)
from dispatch.events.intake import IntakeError
from dispatch.events.models import Source, categories
from geo.crs import CoordSystem
from geo.grids import GridSet
from geo.locate import Locator
from geo.model import Tier
from tests.dispatch.events.test_intake_properties import (
    DATETIMES,
    INSIDE_LAT,
    INSIDE_LON,
    NUMBERS,
    TEXT,
    TIMES,
    UNICODE,
    around,
    perturbed,
    within_bounds,
)
from tests.geo.factories import small_grid

CI = settings(deadline=None, derandomize=True, max_examples=100)
CODES = sorted(categories())


@pytest.fixture(scope="module")
def grids() -> GridSet:
    return GridSet.from_frame(small_grid(), synthetic=True, source="test")


@pytest.fixture(scope="module")
def locator(grids: GridSet) -> Locator:
    return Locator(grids, cell_m=50)


def _number_text(x: object) -> str:
    """How a number arrives in a form or a file cell: as text, whatever it was."""
    try:
        return str(x)
    except ValueError:  # an integer past the interpreter's digit limit
        return "9" * 5000


FORM_TEXT = st.one_of(TEXT, UNICODE, NUMBERS.map(_number_text))


# --- Open311 POST forms ------------------------------------------------------------------

MOBILE = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
OPEN311_VALID = st.fixed_dictionaries(
    {"service_code": st.sampled_from(CODES), "lat": INSIDE_LAT.map(repr),
     "long": INSIDE_LON.map(repr)},
    optional={"description": st.text(max_size=300), "address_string": st.text(max_size=100),
              "first_name": st.text(max_size=10), "last_name": st.text(max_size=10),
              "phone": MOBILE, "email": st.emails(),
              "media_url": st.just("https://example.com/a.jpg"),
              "device_id": st.text(max_size=64), "account_id": st.text(max_size=20),
              "jurisdiction_id": st.text(max_size=20)},
)
OPEN311_WILD = {
    "service_code": FORM_TEXT, "lat": FORM_TEXT, "long": FORM_TEXT,
    "description": st.one_of(FORM_TEXT, around(2000)),
    "address_string": st.one_of(FORM_TEXT, around(200)),
    "first_name": st.one_of(FORM_TEXT, around(30)), "last_name": st.one_of(FORM_TEXT, around(30)),
    "phone": st.one_of(FORM_TEXT, around(20)),
    "email": st.one_of(FORM_TEXT, around(250).map(lambda t: t + "@qq.com")),
    "media_url": FORM_TEXT,
    "device_id": st.one_of(FORM_TEXT, around(64), around(65)), "account_id": FORM_TEXT,
    "jurisdiction_id": FORM_TEXT, "api_key": FORM_TEXT,
}
OPEN311_FORMS = perturbed(OPEN311_VALID, OPEN311_WILD)


@CI
@given(OPEN311_FORMS)
def test_open311_form_gives_a_report_or_spec_errors(form: dict[str, str]) -> None:
    try:
        report = report_from_form(form)
    except Open311Error as exc:
        assert exc.status in (400, 404)
        assert exc.errors and all(e.field and e.message for e in exc.errors)
        return
    within_bounds(report.data)
    assert report.source is Source.OPEN311
    kept = report.extra["open311"]
    assert all(len(v) <= 64 for k, v in kept.items() if k != "email")
    assert len(kept.get("email", "")) <= MAX_EMAIL
    json.dumps(report.extra, ensure_ascii=False)


@pytest.mark.parametrize(("local", "kept"), [("a" * 247, True), ("a" * 248, False)])
def test_an_open311_email_is_kept_up_to_its_longest_possible(local: str, kept: bool) -> None:
    form = {"service_code": "01001", "lat": "30.805", "long": "103.905",
            "email": f"{local}@qq.com"}
    if kept:
        assert report_from_form(form).extra["open311"]["email"] == form["email"]
    else:
        with pytest.raises(Open311Error) as caught:
            report_from_form(form)
        assert [e.field for e in caught.value.errors] == ["email"]
        assert local not in str(caught.value)


@CI
@given(st.sampled_from(CODES), INSIDE_LON, INSIDE_LAT,
       st.text(min_size=1, max_size=2000).map(str.strip).filter(bool),
       st.text(max_size=200).map(str.strip))
def test_a_valid_open311_form_keeps_its_values(code: str, lon: float, lat: float,
                                               description: str, address: str) -> None:
    form = {"service_code": code, "long": repr(lon), "lat": repr(lat),
            "description": description, "address_string": address}
    data = report_from_form(form).data
    assert (data.category, data.lon, data.lat) == (code, lon, lat)
    assert (data.description, data.address) == (description, address)


# --- 12345 hotline files -----------------------------------------------------------------

CELL = st.one_of(FORM_TEXT, TIMES.map(str), st.text(st.sampled_from(',"\r\n\x00 ;'),
                                                    max_size=5))
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk", "big5", "utf-16"])
HOTLINE_TIME = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
ORDER = st.fixed_dictionaries(
    {"工单编号": st.from_regex(r"\A[A-Z]{0,3}[0-9]{4,12}\Z"),
     "受理时间": HOTLINE_TIME.map(lambda t: f"{t:%Y-%m-%d %H:%M:%S}"),
     "经度": INSIDE_LON.map(repr), "纬度": INSIDE_LAT.map(repr),
     "诉求内容": st.text(min_size=1, max_size=300).map(str.strip).filter(bool)},
    optional={"诉求类别": st.one_of(st.sampled_from(CODES), st.text(max_size=20)),
              "诉求地址": st.text(max_size=100), "来电号码": MOBILE,
              "来电人": st.text(max_size=10),
              "签收时间": HOTLINE_TIME.map(lambda t: f"{t:%Y/%m/%d %H:%M}"),
              "答复内容": st.text(max_size=100),
              "满意度": st.sampled_from(["满意", "基本满意", "不满意", "satisfied"])},
)
ORDER_WILD = {header: CELL for headers in COLUMNS.values() for header in headers[:1]}
VALID_LINE = ('{"工单编号": "A1", "受理时间": "2026-05-01 09:30", "经度": 103.905, '
              '"纬度": 30.805, "诉求内容": "路灯不亮"}')
#: A reply column is kept in ``extra`` unchecked by any model: "\udfff" must not get that far.
SURROGATE_REPLY = VALID_LINE[:-1] + ', "答复内容": "\\udfff"}'


def _csv(header: list[str], rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n", restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@st.composite
def hotline_files(draw: st.DrawFn) -> tuple[bytes, str]:
    """Exports as the platform writes them, a few cells wrong; or bytes of any kind."""
    kind = draw(st.sampled_from(["orders", "orders", "orders", "bytes", "raw-jsonl"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), draw(st.sampled_from(["", "x.csv", "x.jsonl"]))
    if kind == "raw-jsonl":
        lines = draw(st.lists(st.sampled_from([
            VALID_LINE, SURROGATE_REPLY, '{"工单编号": 1' + "1" * 5000 + "}", "[1]", "{",
            '{"经度": NaN}', '{"纬度": 1e999}', "", "null", '{"诉求内容": "\\ud800"}',
            "[" * 3000]), max_size=3))
        return "\n".join(lines).encode(), "orders.jsonl"
    rows = draw(st.lists(perturbed(ORDER, ORDER_WILD), min_size=1, max_size=4))
    encoding = draw(ENCODINGS)
    if draw(st.booleans()):
        header = list(dict.fromkeys(k for row in rows for k in row))
        cells = [{k: _number_text(v) for k, v in row.items()} for row in rows]
        text, name = _csv(header, cells), "a.csv"
    else:
        text = "\n".join(json.dumps(r, ensure_ascii=draw(st.booleans()), default=_number_text)
                         for r in rows)
        name = "orders.jsonl"
    data = text.encode(encoding, errors="replace")
    cut = draw(st.none() | st.integers(0, len(data)))
    return (data if cut is None else data[:cut]), draw(st.sampled_from([name, ""]))


def _import(data: bytes, filename: str, locator: Locator, coords: CoordSystem) -> list:
    text, _ = decode(data)
    fmt = detect_format(text, filename=filename)
    return reports_from(read_rows(text, HotlineFormat(fmt)), locator=locator, coords=coords)


@CI
@given(hotline_files(), st.sampled_from(list(CoordSystem)))
def test_hotline_file_imports_whole_or_names_its_problems(
        locator: Locator, file: tuple[bytes, str], coords: CoordSystem) -> None:
    data, filename = file
    try:
        reports = _import(data, filename, locator, coords)
    except HotlineImportError as exc:
        assert exc.problems
        assert all(p.line >= 1 and p.field and p.message for p in exc.problems)
        assert [p.line for p in exc.problems] == sorted(p.line for p in exc.problems)
        return
    orders = [r.data.external_id for r in reports]
    assert len(set(orders)) == len(orders)
    for report in reports:
        within_bounds(report.data)
        json.dumps(report.extra, ensure_ascii=False).encode()  # what the store writes
        assert report.idempotency_key == f"12345:{report.data.external_id}"
        assert locator.index_of(report.data.lon, report.data.lat) >= 0


@CI
@given(st.lists(st.tuples(st.text(st.characters(codec="gbk", exclude_categories=("Cc", "Cs",
                                                                                 "Zs", "Zl",
                                                                                 "Zp")),
                                  min_size=1, max_size=20),
                          st.datetimes(min_value=datetime(2000, 1, 1),
                                       max_value=datetime(2100, 1, 1)),
                          INSIDE_LON, INSIDE_LAT,
                          st.text(st.characters(codec="gbk", exclude_categories=("Cc", "Cs")),
                                  min_size=1, max_size=300).map(str.strip).filter(bool)),
                unique_by=lambda row: row[0], min_size=1, max_size=5),
       st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
       st.sampled_from(["csv", "jsonl"]))
def test_a_valid_hotline_file_keeps_its_values(
        locator: Locator, rows: list[tuple[str, datetime, float, float, str]], encoding: str,
        fmt: str) -> None:
    header = ["工单编号", "受理时间", "经度", "纬度", "诉求内容"]
    records = [dict(zip(header, (no, f"{at:%Y-%m-%d %H:%M:%S}", repr(lon), repr(lat), text),
                        strict=True)) for no, at, lon, lat, text in rows]
    if fmt == "csv":
        body = _csv(header, records)
    else:
        body = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    reports = _import(body.encode(encoding), f"orders.{fmt}", locator, CoordSystem.WGS84)
    for (no, at, lon, lat, text), report in zip(rows, reports, strict=True):
        assert report.data.external_id == no.strip()
        assert report.data.occurred_at == localtime.aware(at.replace(microsecond=0))
        assert (report.data.lon, report.data.lat) == (lon, lat)
        assert report.data.description == text.strip()


def test_jsonl_records_end_at_newlines_only(locator: Locator) -> None:
    """U+2028, U+0085 and form feeds are characters inside a JSON string, not line ends."""
    text = "井盖\u2028缺失\x85请\x0c处理\u2029谢谢"
    record = {"工单编号": "A1", "受理时间": "2026-05-01 09:30:00", "经度": 103.905,
              "纬度": 30.805, "诉求内容": text}
    data = (json.dumps(record, ensure_ascii=False) + "\r\n").encode()
    [report] = _import(data, "orders.jsonl", locator, CoordSystem.WGS84)
    assert report.data.description == text


@pytest.mark.parametrize(("data", "filename", "line"), [
    ((VALID_LINE + "\n" + SURROGATE_REPLY.replace("A1", "A2")).encode(), "orders.jsonl", 2),
    (b'{"order_no": "A1"}\n{"order_no": 1' + b"1" * 5000 + b"}\n", "orders.jsonl", 2),
    ("工单编号,受理时间,经度,纬度,诉求内容\r\n".encode("gbk")
     + b'A1,2026-05-01,103.905,30.805,"' + b"x" * 200_000 + b'"\r\n', "orders.csv", 2),
])
def test_unreadable_records_are_import_errors_naming_their_line(
        locator: Locator, data: bytes, filename: str, line: int) -> None:
    with pytest.raises(HotlineImportError) as caught:
        _import(data, filename, locator, CoordSystem.WGS84)
    assert [p.line for p in caught.value.problems] == [line]


# --- IoT alarms and devices --------------------------------------------------------------

#: A reading sent as text; "nan" and "inf" would be read as numbers, and refused as such.
READING_TEXT = st.text(max_size=100).map(str.strip).filter(
    lambda t: t.lower().lstrip("+-") not in ("nan", "inf", "infinity"))
DEVICE_ID = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z")
ALARM_KINDS = ["tilt", "opened", "displaced", "water_level", "low_battery", "camera", "smoke"]
ALARM_VALID = st.fixed_dictionaries(
    {"device_id": DEVICE_ID, "alarm": st.sampled_from(ALARM_KINDS)},
    optional={"value": st.none() | st.floats(-1e9, 1e9) | READING_TEXT,
              "at": DATETIMES.filter(lambda t: FIRST_YEAR <= t.year <= LAST_YEAR),
              "alarm_id": st.text(max_size=64)},
)
ALARM_WILD = {
    "device_id": st.one_of(TEXT, around(64), around(65)), "alarm": TEXT,
    "value": st.one_of(NUMBERS, around(100), st.lists(st.integers(), max_size=2)),
    "at": TIMES, "alarm_id": st.one_of(TEXT, around(64)), "extra": TEXT,
}
DEVICE_VALID = st.fixed_dictionaries(
    {"device_id": DEVICE_ID,
     "type": st.sampled_from(["manhole_cover", "camera", "water_level", "smoke", "other"]),
     "lon": INSIDE_LON, "lat": INSIDE_LAT},
    optional={"name": st.text(max_size=100), "address": st.text(max_size=200),
              "dedupe_window_s": st.none() | st.floats(1, 7 * 24 * 3600)},
)
DEVICE_WILD = {
    "device_id": st.one_of(TEXT, around(64)), "type": TEXT, "lon": NUMBERS, "lat": NUMBERS,
    "name": st.one_of(TEXT, UNICODE, around(100)),
    "address": st.one_of(TEXT, UNICODE, around(200)), "dedupe_window_s": NUMBERS,
}
ALARMS = perturbed(ALARM_VALID, ALARM_WILD)
DEVICES = perturbed(DEVICE_VALID, DEVICE_WILD)


def _device(spec: DeviceIn) -> Device:
    return Device(device_id=spec.device_id, type=spec.type, lon=spec.lon, lat=spec.lat,
                  name=spec.name or spec.device_id, address=spec.address, micro="m",
                  general="g", total="t", street="s", dedupe_window_s=spec.dedupe_window_s,
                  registered_at=0.0, registered_by="tester")


@CI
@given(st.one_of(ALARMS, ALARMS, ALARMS, st.none(), st.lists(st.integers(), max_size=2), TEXT),
       st.one_of(DEVICES, DEVICES, DEVICES, st.none(), TEXT),
       st.floats(946_771_200, 4_102_358_400))  # the server's clock: 2000-01-02 to 2099-12-31
def test_alarm_and_device_give_a_report_or_intake_errors(alarm_body: object,
                                                         device_body: object,
                                                         now: float) -> None:
    try:
        alarm = validate(AlarmIn, alarm_body)
    except IntakeError as exc:
        assert exc.problems and all(p.field for p in exc.problems)
        alarm = None
    try:
        spec = validate(DeviceIn, device_body)
    except IntakeError as exc:
        assert exc.problems and all(p.field for p in exc.problems)
        spec = None
    if alarm is not None:
        assert 1 <= len(alarm.device_id) <= 64 and len(alarm.alarm_id) <= 64
        assert alarm.at is None or FIRST_YEAR <= alarm.at.year <= LAST_YEAR
        if isinstance(alarm.value, float):
            assert math.isfinite(alarm.value)
        if isinstance(alarm.value, str):
            assert len(alarm.value) <= 100
    if spec is not None:
        assert math.isfinite(spec.lon) and math.isfinite(spec.lat)
        assert spec.dedupe_window_s is None or 0 < spec.dedupe_window_s <= 7 * 24 * 3600
    if alarm is None or spec is None:
        return
    at = localtime.aware(alarm.at) if alarm.at else datetime.fromtimestamp(now, localtime.CST)
    device = _device(spec)
    report = alarm_report(device, alarm, at=at, window_s=600.0)
    within_bounds(report.data)
    assert report.data.description == describe(device, alarm, at=at)
    assert report.dedupe_window_s > 0
    json.dumps(report.extra, ensure_ascii=False)


@CI
@given(st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}\Z"),
       st.sampled_from(["tilt", "smoke", "water_level"]),
       st.none() | st.floats(-1e9, 1e9) | READING_TEXT,
       st.none() | DATETIMES.filter(lambda t: FIRST_YEAR <= t.year <= LAST_YEAR),
       st.text(max_size=64).map(str.strip))
def test_a_valid_alarm_keeps_its_values(device_id: str, kind: str, value: float | str | None,
                                        at: datetime | None, alarm_id: str) -> None:
    body = {"device_id": device_id, "alarm": kind, "value": value, "at": at,
            "alarm_id": alarm_id}
    alarm = validate(AlarmIn, body)
    assert (alarm.device_id, alarm.alarm.value, alarm.at, alarm.alarm_id) == (
        device_id, kind, at, alarm_id)
    # A numeric string ("12.5") is read as the number it spells; any other text is kept.
    assert alarm.value == value or (isinstance(value, str) and alarm.value == float(value))
    assert validate(AlarmIn, json.loads(alarm.model_dump_json())) == alarm


# --- resident QR forms -------------------------------------------------------------------

RESIDENT_VALID = st.fixed_dictionaries(
    {"category": st.sampled_from([c.code for c in CHOICES]),
     "description": st.text(min_size=1, max_size=300).map(str.strip).filter(bool)},
    optional={"name": st.text(max_size=20), "phone": MOBILE, "lon": INSIDE_LON.map(repr),
              "lat": INSIDE_LAT.map(repr), "acc": st.floats(0, 100).map(repr),
              "b": st.text(max_size=100)},
)
RESIDENT_WILD = {
    "category": FORM_TEXT, "description": st.one_of(FORM_TEXT, around(2000)),
    "name": st.one_of(FORM_TEXT, around(50)), "phone": FORM_TEXT, "lon": FORM_TEXT,
    "lat": FORM_TEXT, "acc": FORM_TEXT, "b": st.one_of(FORM_TEXT, around(100), around(400)),
    "micro": FORM_TEXT,
}
RESIDENT_FORMS = perturbed(RESIDENT_VALID, RESIDENT_WILD)


@pytest.mark.parametrize(("acc", "by_phone"), [("", True), ("35", True), ("100", True),
                                             ("101", False), ("-5", False), ("nan", True)])
def test_a_phone_fix_counts_only_with_a_real_radius(grids: GridSet, locator: Locator,
                                                    acc: str, by_phone: bool) -> None:
    micro = grids.tier(Tier.MICRO)["code"].iloc[0]
    form = {"category": "01001", "description": "路灯不亮", "lon": "103.9005",
            "lat": "30.8005", "acc": acc}
    report = read_report(form, ref=qr_grid(grids, micro), grids=grids, locator=locator,
                         nonce="n")
    assert (report.extra["located_by"] == "phone") is by_phone
    assert ((report.data.lon, report.data.lat) == (103.9005, 30.8005)) is by_phone


@CI
@given(st.floats(103.89, 103.93).map(repr), st.floats(30.79, 30.82).map(repr),
       st.one_of(st.floats().map(repr), FORM_TEXT, st.none()))
def test_a_phone_position_is_used_only_inside_and_precise(
        grids: GridSet, locator: Locator, lon: str, lat: str, acc: str | None) -> None:
    micro = grids.tier(Tier.MICRO)["code"].iloc[0]
    form = {"category": "01001", "description": "路灯不亮", "lon": lon, "lat": lat}
    if acc is not None:
        form["acc"] = acc
    report = read_report(form, ref=qr_grid(grids, micro), grids=grids, locator=locator,
                         nonce="n")
    assert not locator.locate(report.data.lon, report.data.lat).outside
    if report.extra["located_by"] == "phone":
        assert (report.data.lon, report.data.lat) == (float(lon), float(lat))
        assert 0 <= report.extra.get("accuracy_m", 0) <= MAX_ACCURACY_M
    else:
        assert locator.locate(report.data.lon, report.data.lat).micro == micro


@CI
@given(RESIDENT_FORMS, st.data())
def test_resident_form_gives_a_located_report_or_intake_errors(
        grids: GridSet, locator: Locator, form: dict[str, str], data: st.DataObject) -> None:
    codes = list(grids.frame["code"])
    code = data.draw(st.one_of(st.sampled_from(codes), st.sampled_from(codes), FORM_TEXT),
                     label="qr code")
    try:
        ref = qr_grid(grids, code)
    except GridCodeError:
        assert code not in codes or grids.ref(code).tier == Tier.TOTAL.value
        return
    if ref.tier == Tier.GENERAL.value and "micro" not in form:
        micros = list(grids.tier(Tier.MICRO).query("parent_code == @ref.code")["code"])
        form = form | {"micro": data.draw(st.sampled_from(micros), label="micro")}
    try:
        report = read_report(form, ref=ref, grids=grids, locator=locator, nonce="n")
    except IntakeError as exc:
        assert exc.problems and all(p.field and p.message for p in exc.problems)
        return
    within_bounds(report.data)
    assert report.data.category in {c.code for c in CHOICES}
    assert not locator.locate(report.data.lon, report.data.lat).outside
    assert report.idempotency_key == "resident:n"
    assert 0 <= report.extra.get("accuracy_m", 0) <= MAX_ACCURACY_M
