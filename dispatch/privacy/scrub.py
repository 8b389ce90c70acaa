"""Personal data scrubbed out of free text before the public, leaders or an export see it.

Residents type their phone numbers, ID numbers, e-mail addresses and flat numbers into
descriptions; those reads must not show them (PIPL). :func:`scrub` masks them so the text
still reads ("电话138****5678", "幸福小区**"), and removes the reporter's own stored name,
phone and address wherever they occur (``known``), even where no pattern would catch them.

Where the line is drawn for places: a road and its street number ("望丛路88号") is the public
location of a gate and stays, as do community and compound names ("幸福小区", "8号院"); the
building, unit, floor and room behind that gate ("3栋2单元501", "5号楼1单元302", "3-2-501",
"501室", "Room 501") point at one household and are masked, with the resident's name when
it directly follows as "张三家". A lone building ("12栋") is masked too: a reader who knows
the compound can walk to its door.

Everything is matched on a copy with full-width forms folded to ASCII (１３８, ＠, －, the
ideographic space), one character for one, so the masks splice into the original text and
its other full-width characters are left alone. A scrubbed text is never longer than the
original, and scrubbing twice changes nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

__all__ = ["scrub"]

#: Full-width digits, letters and the punctuation the patterns read (U+FF01–FF5E), other
#: spaces and dash variants, each folded to one ASCII character so positions in the folded
#: copy are positions in the original. Full-width commas and colons are left: no pattern
#: reads them, and Chinese text is full of them.
_FOLD = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)
         if chr(cp - 0xFEE0) in "0123456789@+()#%._-" or chr(cp - 0xFEE0).isalpha()}
_FOLD |= {chr(cp): " " for cp in (0x3000, 0x00A0, *range(0x2000, 0x200B), 0x202F)}
_FOLD |= {chr(cp): "-" for cp in (*range(0x2010, 0x2016), 0x2212, 0xFE63)}
_FOLDABLE = re.compile("[" + "".join(map(re.escape, sorted(_FOLD))) + "]")

_SEP = "[-. ]?"  # people group digits with one space, dash or dot
_ID_SEP = "[- ]?"


def _spaced(*classes: str, sep: str = _ID_SEP) -> str:
    """Characters, each from its class, optionally separated: 5101 2419 9001 0112 34."""
    return sep.join(classes)


_D = "[0-9]"
_MONTH = f"(?:0{_ID_SEP}[1-9]|1{_ID_SEP}[0-2])"
_DAY = f"(?:0{_ID_SEP}[1-9]|[12]{_ID_SEP}{_D}|3{_ID_SEP}[01])"
_REGION = _spaced("[1-9]", *[_D] * 5)
#: An ID written in groups is recognised by its birth date; an unbroken run of 15 or more
#: digits is masked whatever it holds (an ID with a typo, a bank card).
_ID = (
    rf"(?<![0-9])(?:"
    rf"{_REGION}{_ID_SEP}(?:1{_ID_SEP}[89]|2{_ID_SEP}0){_ID_SEP}{_D}{_ID_SEP}{_D}"
    rf"{_ID_SEP}{_MONTH}{_ID_SEP}{_DAY}{_ID_SEP}{_spaced(_D, _D, _D, '[0-9Xx]')}"
    rf"|{_REGION}{_ID_SEP}{_D}{_ID_SEP}{_D}{_ID_SEP}{_MONTH}{_ID_SEP}{_DAY}"
    rf"{_ID_SEP}{_spaced(_D, _D, _D)}"
    rf"|[0-9]{{17}}[Xx]|[0-9]{{15,}}"
    rf")(?![0-9])"
)
#: 11 digits from 13x–19x, any grouping, after +86, 86, 0086, (+86) or a trunk 0.
_MOBILE = (
    rf"(?<![0-9])(?:\(?(?:\+|00)?86\)?{_SEP}|0)?1{_SEP}[3-9](?:{_SEP}[0-9]){{9}}(?![0-9])"
)
#: Area code (010, 02x, else 0 and three digits), a local number of 7–8 digits that does not
#: start with 0 or 1, then an optional extension.
_AREA = "0(?:10|2[0-9]|[3-9][0-9]{2})"
_LANDLINE = (
    rf"(?<![0-9])(?:\((?P<area_p>{_AREA})\)|(?P<area>{_AREA})){_SEP}"
    rf"(?P<local>[2-9](?:{_SEP}[0-9]){{6,7}})(?![0-9])"
    rf"(?: ?(?:转|分机|[Ee][Xx][Tt]\.?|[Xx#]) ?[0-9]{{1,6}}(?![0-9]))?"
)
_EMAIL_LOCAL = "[A-Za-z0-9._%+-]"
_EMAIL = (
    rf"(?<!{_EMAIL_LOCAL}){_EMAIL_LOCAL}+@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{{2,}}"
)

_CN_NUM = "[一二三四五六七八九十]"
_HOUSE_SEP = "[ -]?"
_UNIT = rf"(?:[0-9]{{1,2}}|{_CN_NUM}{{1,2}})单元"
_BUILDING = (
    rf"(?:[0-9]{{1,4}}|[A-Za-z])(?:栋|幢|号楼|楼栋)"
    rf"|[0-9]{{1,4}}#(?:楼|(?={_HOUSE_SEP}{_UNIT}))|[A-Za-z]座"
)
_FLOOR = rf"(?:[0-9]{{1,2}}|负[0-9]|{_CN_NUM}{{1,3}})(?:层|楼)"
#: A room with its suffix, or a bare number that is not a date, time, amount or count.
_ROOM = r"(?:[0-9]{1,5}(?:室|房间|房|户|号)|[0-9]{2,5}(?![0-9.:%年月日元人点时分秒岁个块米]))"
#: Common surnames; a name right after a flat ("…501 张三家") is masked with it.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻"
    "祁蒲滕屈饶解牟艾尤阳穆农卓古吉缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿"
    "桂佟臧闵苟邬边卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩明佘苑邝"
)
_NAME_HOME = (
    rf"(?:[ ,，]?(?:欧阳|司马|诸葛|上官|东方|皇甫|[老小阿][{_SURNAMES}]|[{_SURNAMES}])"
    rf"(?:某+|[\u4e00-\u9fff]{{0,2}}?)家)?"
)
_HOUSE = (
    rf"(?<![0-9A-Za-z])(?:"
    rf"(?:{_BUILDING})(?:{_HOUSE_SEP}{_UNIT})?(?:{_HOUSE_SEP}{_FLOOR})?(?:{_HOUSE_SEP}{_ROOM})?"
    rf"|{_UNIT}(?:{_HOUSE_SEP}{_FLOOR})?(?:{_HOUSE_SEP}{_ROOM})?"
    rf"|[0-9]{{1,3}}-[0-9]{{1,2}}-[0-9]{{3,4}}(?![0-9])(?:室|号|房)?"
    rf"|[0-9]{{3,4}}(?:室|房间)"
    rf"){_NAME_HOME}"
)
_EN_PLACE = r"(?:room|rm\.?|apt\.?|apartment|flat|suite|unit|building|bldg\.?|block|floor)"
_EN_HOUSE = (
    rf"(?i:\b{_EN_PLACE} ?(?:no\.? ?)?#? ?[a-z]?[0-9]+[a-z]?(?:-[0-9]+)*\b"
    rf"(?:,? ?{_EN_PLACE} ?(?:no\.? ?)?#? ?[a-z]?[0-9]+[a-z]?(?:-[0-9]+)*\b)*)"
)

#: One pass: at each position the first alternative that matches wins, so an e-mail address
#: whose local part is a phone number is masked as an e-mail, and an 18-digit ID as an ID.
_PATTERN = re.compile(
    "(?=[0-9A-Za-z+(._%-])"  # one cheap test at each of the many positions no match starts
    f"(?:(?P<email>{_EMAIL})"
    f"|(?=[0-9+(])(?:(?P<id>{_ID})|(?P<mobile>{_MOBILE})|(?P<landline>{_LANDLINE}))"
    f"|(?P<house>{_HOUSE})|(?P<en_house>{_EN_HOUSE}))"
)
#: A text without any of these holds nothing the patterns could match.
_TRIGGER = re.compile(r"[0-9@栋幢座]")
_NOT_DIGIT = re.compile(r"[^0-9Xx]")


def _mask_email(m: re.Match[str]) -> str:
    return "***@***" if len(m.group()) >= 7 else "*@*"


def _mask_id(m: re.Match[str]) -> str:
    raw = _NOT_DIGIT.sub("", m.group())
    return "*" * (len(raw) - 4) + raw[-4:]


def _mask_mobile(m: re.Match[str]) -> str:
    digits = _NOT_DIGIT.sub("", m.group())[-11:]
    return f"{digits[:3]}****{digits[-4:]}"


def _mask_landline(m: re.Match[str]) -> str:
    area = m.group("area") or m.group("area_p")
    last4 = _NOT_DIGIT.sub("", m.group("local"))[-4:]
    stars = max(1, min(4, len(m.group()) - len(area) - 5))
    return f"{area}-{'*' * stars}{last4}"


def _mask_house(m: re.Match[str]) -> str:
    return "**"


_MASKS: dict[str | None, Callable[[re.Match[str]], str]] = {
    "email": _mask_email, "id": _mask_id, "mobile": _mask_mobile, "landline": _mask_landline,
    "house": _mask_house, "en_house": _mask_house,
}


def _fold(text: str) -> str:
    return _FOLDABLE.sub(_folded, text)


def _folded(m: re.Match[str]) -> str:
    return _FOLD[m.group()]


@lru_cache(maxsize=256)
def _known_pattern(known: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({_fold(k.strip()) for k in known if len(k.strip()) > 1}, key=len,
                   reverse=True)
    return re.compile("|".join(map(re.escape, words))) if words else None


def _splice(text: str, matches: Iterable[re.Match[str]],
            mask: Callable[[re.Match[str]], str]) -> str:
    out: list[str] = []
    last = 0
    for m in matches:
        out += (text[last:m.start()], mask(m))
        last = m.end()
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def scrub(text: str, *, known: Iterable[str] = ()) -> str:
    """``text`` with phone, ID and e-mail masked, house-level address detail and the
    ``known`` strings (the reporter's stored name, phone, address) replaced by ``**``.

    Runs on every event a public list shows, so a text with no digit, no ``@`` and no
    building word costs one character-class search. Passes repeat until nothing changes, so
    digits a mask keeps ("…1234") cannot form a new match with what follows them ("栋") and
    scrubbing a scrubbed text changes nothing; this ends, usually after the second pass,
    because every change leaves fewer characters that are not ``*`` or a shorter text.
    """
    words = _known_pattern(tuple(k for k in known if k)) if known else None
    while True:
        out = _pass(text, words)
        if out == text:
            return out
        text = out


def _pass(text: str, words: re.Pattern[str] | None) -> str:
    """Patterns before known strings: a known "5678号" cut out of "13812345678号" first would
    leave "1381234", which no pattern recognises as a phone any more."""
    folded = _fold(text)
    if _TRIGGER.search(folded):
        text = _splice(text, _PATTERN.finditer(folded), _mask)
        folded = _fold(text)
    if words is not None:
        text = _splice(text, words.finditer(folded), _mask_house)
    return text


def _mask(m: re.Match[str]) -> str:
    return _MASKS[m.lastgroup](m)
