"""GET requests: the spec's filters, checked, then answered from the event indices.

Without dates the range is the most recent 90 days; a range may not span more than 90 days,
and at most 1,000 requests come back, newest first (the spec's limits). ``service_request_id``
overrides every other filter. A filter value we cannot honour is an error naming the
argument, never silently ignored, so a client never mistakes a typo for "no requests".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatch.channels.open311.spec import (
    DEFAULT_SPAN,
    MAX_REQUESTS,
    Open311Error,
    Open311Status,
    open311_status,
    parse_w3c,
    publishable,
)
from dispatch.events.models import Status, categories
from dispatch.events.service import EventFilter, EventService
from dispatch.store.events import EventNotFoundError

_SPAN_S = DEFAULT_SPAN.total_seconds()


@dataclass(frozen=True, slots=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: float = 0.0
    end: float = 0.0
    statuses: frozenset[Open311Status] = frozenset()


def parse_query(args: Mapping[str, str], *, now: float) -> RequestQuery:
    """The spec's query arguments; raises Open311Error (400) naming the bad one."""
    ids = _list(args, "service_request_id")
    if len(ids) > MAX_REQUESTS:
        raise Open311Error.one(400, "service_request_id",
                               f"at most {MAX_REQUESTS} ids, got {len(ids)}")
    codes = _list(args, "service_code")
    unknown = [c for c in codes if c not in categories()]
    if unknown:
        raise Open311Error.one(400, "service_code", f"unknown service_code {unknown[0]!r}")
    start, end = _range(args.get("start_date", ""), args.get("end_date", ""), now=now)
    return RequestQuery(ids=ids, codes=codes, start=start, end=end,
                        statuses=_statuses(_list(args, "status")))


def _list(args: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Comma-delimited, and the argument may also be repeated (both are in the spec)."""
    raw = args.getlist(name) if hasattr(args, "getlist") else [args.get(name, "")]
    items = (part.strip() for value in raw for part in (value or "").split(","))
    return tuple(dict.fromkeys(i for i in items if i))


def _statuses(values: tuple[str, ...]) -> frozenset[Open311Status]:
    allowed = {s.value for s in Open311Status}
    bad = [v for v in values if v not in allowed]
    if bad:
        raise Open311Error.one(400, "status", f"{bad[0]!r} is not open or closed")
    return frozenset(Open311Status(v) for v in values)


def _range(start_raw: str, end_raw: str, *, now: float) -> tuple[float, float]:
    start = parse_w3c(start_raw, "start_date") if start_raw.strip() else None
    end = parse_w3c(end_raw, "end_date") if end_raw.strip() else None
    if start is None:
        if end is None:
            return now - _SPAN_S, now
        return end - _SPAN_S, end
    if end is None:
        return start, start + _SPAN_S
    if end < start:
        raise Open311Error.one(400, "end_date", "end_date is before start_date")
    if end - start > _SPAN_S:
        raise Open311Error.one(400, "start_date,end_date",
                               "the range may not span more than 90 days")
    return start, end


def find_requests(query: RequestQuery, *, events: EventService) -> list[dict[str, Any]]:
    """Public views of the matching events, newest first, at most 1,000."""
    if query.ids:
        views = [v for v in (_get(events, i) for i in query.ids) if v is not None]
    else:
        views = _search(query, events=events)
    return [v for v in views if publishable(v)][:MAX_REQUESTS]


def _get(events: EventService, event_id: str) -> dict[str, Any] | None:
    try:
        return events.get(event_id)
    except EventNotFoundError:
        return None


def _search(query: RequestQuery, *, events: EventService) -> list[dict[str, Any]]:
    # One indexed scan per (status, code): "open" is ten statuses, and each status has its
    # own index, so no scan wades through the other state's events.
    wanted = query.statuses
    statuses = ([s for s in Status if open311_status(s) in wanted]
                if wanted and len(wanted) < len(Open311Status) else [None])
    found: dict[str, dict[str, Any]] = {}
    for status in statuses:
        for code in query.codes or (None,):
            flt = EventFilter(status=status, category=code, since=query.start,
                              until=query.end, limit=MAX_REQUESTS, exercise=False)
            found.update((v["id"], v) for v in events.list(flt))
    return sorted(found.values(), key=lambda v: (v["created_at"], v["id"]), reverse=True)
