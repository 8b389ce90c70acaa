"""Free-text scrubbing: every kind of personal data a resident types is masked, and ordinary
text (dates, times, amounts, codes, coordinates, road numbers) is left as it was."""

from __future__ import annotations

import re
import string
from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dispatch.privacy.scrub import scrub

CI = settings(deadline=None, derandomize=True, max_examples=300)

MASKED = [
    # mobiles
    ("电话13812345678联系", "电话138****5678联系"),
    ("138-1234-5678", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("138.1234.5678", "138****5678"),
    ("+8613912345678", "139****5678"),
    ("+86 139 1234 5678", "139****5678"),
    ("86 13912345678", "139****5678"),
    ("0086-139-1234-5678", "139****5678"),
    ("(+86)13912345678", "139****5678"),
    ("013912345678", "139****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("手机：１３８－１２３４－５６７８。", "手机：138****5678。"),
    ("call 13812345678 or 13912345678", "call 138****5678 or 139****5678"),
    ("tel13812345678", "tel138****5678"),
    # landlines
    ("(028)87654321", "028-****4321"),
    ("（028）87654321", "028-****4321"),
    ("028-87654321", "028-****4321"),
    ("028 8765 4321", "028-****4321"),
    ("座机028-87654321转123，白天", "座机028-****4321，白天"),
    ("office 028-87654321 ext 12.", "office 028-****4321."),
    ("010-62345678", "010-****5678"),
    ("0838-2345678", "0838-***5678"),
    ("02887654321", "028-***4321"),
    # e-mail
    ("邮箱zhang.san@qq.com，谢谢", "邮箱***@***，谢谢"),
    ("mail Zhang.San+tag@mail.pidu.gov.cn.", "mail ***@***."),
    ("13812345678@qq.com", "***@***"),
    ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "***@***"),
    # ID numbers
    ("身份证510124199001011234", "身份证**************1234"),
    ("身份证51012419900101123X号", "身份证**************123X号"),
    ("id 51012419900101123x", "id **************123x"),
    ("5101 2419 9001 0112 34", "**************1234"),
    ("510124-19900101-1234", "**************1234"),
    ("510124 19900101 1234", "**************1234"),
    ("老证510124900101123", "老证***********1123"),
    ("510124-900101-123", "***********1123"),
    ("卡号6222021234567890123", "卡号***************0123"),
    # house-level addresses
    ("幸福小区3栋2单元501 张三家", "幸福小区**"),
    ("幸福小区3栋2单元501张三家门口", "幸福小区**门口"),
    ("幸福小区3栋2单元501，王大妈家楼上漏水", "幸福小区**楼上漏水"),
    ("3幢2单元501室", "**"),
    ("5号楼1单元302", "**"),
    ("5#楼2单元101", "**"),
    ("锦绣花园3-2-501", "锦绣花园**"),
    ("2单元501室", "**"),
    ("望丛路88号501室", "望丛路88号**"),
    ("望丛路88号3栋501号", "望丛路88号**"),
    ("住12栋", "住**"),
    ("幸福小区3栋1层", "幸福小区**"),
    ("A座1203", "**"),
    ("３栋２单元５０１", "**"),
    ("Room 501, Building 3, Xingfu Garden", "**, Xingfu Garden"),
    ("Apt 5B near the gate", "** near the gate"),
]

KEPT = [
    "2026-11-30",
    "2026年11月30日",
    "2026/11/30 14:30",
    "14:30",
    "500元",
    "3人",
    "类别14001",
    "14001",
    "(103.92,30.81)",
    "坐标103.912345,30.812345",
    "望丛路88号",
    "幸福小区",
    "8号院门口",
    "住在3楼",
    "气温12.5度，降雨30mm",
    "一座桥",
    "2026-11-30 14:30 报修 3 次，约 1200 元",
    "工单20260501001",
    "3室2厅",
    "open 8:30-17:30, 2 units affected",
    "Streetlight out on Wangcong Rd 88 since 2026-11-30 21:00",
    "拨打12345热线，110报警",
    "川A12345",
    "303路公交",
    "192.168.1.100",
    "1,380,000元",
    "20261130",
    "望丛东路88号附1号",
    "13:30-14:00停水，3-5天",
    "2026-11-30T14:30:00+08:00",
    "事件编号E2026113000012",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masks(text: str, expected: str) -> None:
    assert scrub(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_keeps_ordinary_text(text: str) -> None:
    assert scrub(text) == text


def test_known_strings_go_wherever_they_occur() -> None:
    text = "张三反映：张三家门口（幸福里小区东门）积水，联系人张三"
    assert scrub(text, known=["张三", "幸福里小区东门"]) == "**反映：**家门口（**）积水，联系人**"


def test_known_ignores_empty_and_one_character_strings() -> None:
    assert scrub("张三反映积水", known=["", "张", " ", "三 "]) == "张三反映积水"


def test_known_catches_what_no_pattern_does() -> None:
    assert scrub("联系87654321", known=["87654321"]) == "联系**"


def test_a_known_string_cannot_break_a_number_the_patterns_would_mask() -> None:
    out = scrub("电话13812345678号", known=["5678号"])
    assert not _leaks("13812345678", out), out


def test_digits_a_mask_keeps_do_not_start_a_new_match() -> None:
    assert scrub("510124199001011234栋") == "****************"


def test_known_matches_full_width_forms() -> None:
    assert scrub("电话８７６５４３２１", known=["87654321"]) == "电话**"


# --- properties -----------------------------------------------------------------------

_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
DIGITS = st.text(string.digits, min_size=1, max_size=1)
#: Between a secret and its surroundings: never a digit, separator or e-mail character, as
#: in "电话13812345678，" — so the test is about the secret, not about its neighbours.
BOUNDARY = st.sampled_from(["，", "。", "：", "、", "；", "电话", "联系", "号码是", "邮箱", "！"])
SURROUNDING = st.text(
    st.one_of(st.sampled_from("幸福小区路灯不亮漏水请尽快处理谢谢邻居反映年月日元人号"),
              st.characters(codec="utf-8", categories=("L", "N", "P", "Zs"))),
    max_size=30)


def _grouped(draw: st.DrawFn, chars: str, seps: str) -> str:
    """Chars with an optional separator drawn for each gap: 138 1234-5678, 5101 2419…"""
    if draw(st.booleans()):
        return chars
    gaps = draw(st.lists(st.sampled_from(["", *seps]), min_size=len(chars) - 1,
                         max_size=len(chars) - 1))
    return chars[0] + "".join(g + c for g, c in zip(gaps, chars[1:], strict=True))


@st.composite
def mobiles(draw: st.DrawFn) -> tuple[str, str]:
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(
        draw(st.lists(DIGITS, min_size=9, max_size=9)))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "86", "86-", "0086", "0086 ", "(+86)",
                                   "0"]))
    text = prefix + _grouped(draw, digits, " -.")
    return (text.translate(_FULL) if draw(st.booleans()) else text), digits


@st.composite
def landlines(draw: st.DrawFn) -> tuple[str, str]:
    area = draw(st.sampled_from(["010", *(f"02{d}" for d in range(10))])
                | st.builds(lambda a, b, c: f"0{a}{b}{c}", st.sampled_from("3456789"),
                            DIGITS, DIGITS))
    local = draw(st.sampled_from("23456789")) + "".join(
        draw(st.lists(DIGITS, min_size=6, max_size=7)))
    head = draw(st.sampled_from([f"({area})", f"{area}-", f"{area} ", area]))
    ext = draw(st.sampled_from(["", "转123", " ext 12", "x5", "分机8"]))
    return head + _grouped(draw, local, " -") + ext, area + local


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    region = draw(st.sampled_from("12345678")) + "".join(
        draw(st.lists(DIGITS, min_size=5, max_size=5)))
    born = draw(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 31)))
    seq = "".join(draw(st.lists(DIGITS, min_size=3, max_size=3)))
    if draw(st.booleans()):
        number = region + born.strftime("%Y%m%d") + seq + draw(st.sampled_from("0123456789Xx"))
    else:
        number = region + born.strftime("%y%m%d") + seq
    layout = draw(st.sampled_from(["free", "6-8-4", "4s"]))
    if layout == "6-8-4" and len(number) == 18:
        sep = draw(st.sampled_from(" -"))
        text = sep.join((number[:6], number[6:14], number[14:]))
    elif layout == "4s":
        sep = draw(st.sampled_from(" -"))
        text = sep.join(number[i:i + 4] for i in range(0, len(number), 4))
    else:
        text = _grouped(draw, number, " -")
    return (text.translate(_FULL) if draw(st.booleans()) else text), number


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    local = draw(st.text(string.ascii_letters + string.digits + "._%+-", min_size=1,
                         max_size=20))
    labels = draw(st.lists(st.text(string.ascii_lowercase + string.digits, min_size=1,
                                   max_size=10), min_size=1, max_size=3))
    tld = draw(st.text(string.ascii_letters, min_size=2, max_size=6))
    return f"{local}@{'.'.join(labels)}.{tld}", local


def _runs(text: str) -> list[str]:
    """Digit runs as a reader sees them: separators inside a number do not break it."""
    folded = text.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    return [re.sub("[^0-9Xx]", "", r) for r in re.findall(r"[0-9Xx](?:[-. ]?[0-9Xx])*", folded)]


def _leaks(secret: str, text: str, width: int = 7) -> list[str]:
    windows = {secret[i:i + width] for i in range(len(secret) - width + 1)}
    return [w for w in windows if any(w in run for run in _runs(text))]


def _embedded(draw: st.DrawFn, secret: str) -> tuple[str, str, str]:
    before, after = draw(SURROUNDING), draw(SURROUNDING)
    return before + draw(BOUNDARY), secret, draw(BOUNDARY) + after


@CI
@given(st.data(), st.one_of(mobiles(), landlines(), id_numbers()))
def test_numbers_never_survive(data: st.DataObject, secret: tuple[str, str]) -> None:
    written, digits = secret
    before, _, after = _embedded(data.draw, written)
    assume(not _leaks(digits, before + after))
    text = before + written + after
    # The reporter's stored details may overlap the number ("5678号"): no help to a leak.
    known = data.draw(st.lists(st.builds(lambda i, n: text[i:i + n],
                                         st.integers(0, len(text)), st.integers(2, 8)),
                               max_size=2))
    out = scrub(text, known=known)
    assert not _leaks(digits, out), out
    assert scrub(out, known=known) == out


@CI
@given(st.data(), emails())
def test_emails_never_survive(data: st.DataObject, secret: tuple[str, str]) -> None:
    email, local = secret
    before, _, after = _embedded(data.draw, email)
    out = scrub(before + email + after)
    assert local + "@" not in out and email not in out, out
    assert scrub(out) == out


@CI
@given(st.text())
def test_never_raises_lengthens_or_changes_twice(text: str) -> None:
    out = scrub(text)
    assert len(out) <= len(text)
    assert scrub(out) == out


@CI
@given(st.text(st.sampled_from("0123456789１３８ -.+()@栋单元室号楼幢座#Xxab转层张三家，")))
def test_digit_soup(text: str) -> None:
    out = scrub(text)
    assert len(out) <= len(text)
    assert scrub(out) == out


@CI
@given(st.text(), st.lists(st.text(st.sampled_from("张三李四王五幸福小区望丛路"), min_size=2,
                                   max_size=4), max_size=3))
def test_known_strings_are_gone(text: str, known: list[str]) -> None:
    mixed = "".join(k + c for k, c in zip(known, text, strict=False)) + text
    out = scrub(mixed, known=known)
    assert not any(k in out for k in known)
    assert len(out) <= len(mixed)
    assert scrub(out, known=known) == out
