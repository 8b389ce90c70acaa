"""Beijing time for everything people read: reports, exports and other systems' timestamps.

China has one time zone and no daylight saving, so a fixed +08:00 offset is exact and needs no
tz database on the government intranet machines. A timestamp without an offset, as 12345
exports and device firmware send them, is read as Beijing time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")


def iso(ts: float) -> str:
    """Epoch seconds as ISO 8601 / W3C date-time with its offset: 2024-05-01T09:30:00+08:00."""
    return datetime.fromtimestamp(ts, CST).isoformat(timespec="seconds")


def aware(when: datetime) -> datetime:
    """``when`` with an offset: a naive value is taken as Beijing time."""
    return when if when.tzinfo else when.replace(tzinfo=CST)


_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y年%m月%d日 %H:%M:%S",
            "%Y年%m月%d日 %H:%M", "%Y年%m月%d日")


def parse(raw: str) -> datetime:
    """ISO 8601 (``T`` or space, ``Z``, an offset or none), or the spreadsheet forms
    ``2024/5/1 9:30`` and ``2024年5月1日 09:30``.

    Raises ValueError on anything else; the caller names the field.
    """
    text = raw.strip().replace("/", "-")
    try:
        return aware(datetime.fromisoformat(text))
    except ValueError:
        pass
    for fmt in _FORMATS:
        try:
            return aware(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(f"{raw!r} is not a date-time")
