"""Open311 GeoReport v2: our categories as services, our events as service requests.

GeoReport knows two statuses. A request is ``closed`` when it is resolved for good (closed,
archived) or withdrawn (cancelled); every other status, *verified* included, is ``open``:
this is :attr:`Status.open`, the same line the dedupe folding and the overdue clocks draw,
so an Open311 client never sees a request closed that the centre still counts as open work,
and ``updated_datetime`` of a closed request is the time it was closed, as the spec asks.

The GET methods need no key (the spec's rule), so what they show is what a resident may
see: no reporter, free text scrubbed of phones, e-mail, ID numbers and house-level
addresses, and classes that concern identifiable vulnerable people or police matters (12, 13)
never listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from dispatch import localtime
from dispatch.events.models import Category, Severity, Status, categories
from geo.grids import GridSet, UnknownGridError

MAX_REQUESTS = 1000
DEFAULT_SPAN = timedelta(days=90)
#: Classes whose requests concern people's safety (public security, special populations): they
#: can be reported here, but are never listed or read back through this public interface.
PUBLIC_WITHHELD_CLASSES = frozenset({"12", "13"})
WITHHELD_NOTE = ("; requests of this service are not published: they are accepted, but not "
                 "listed or read back here")
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"


class Open311Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class SpecError:
    """One entry of the spec's error array; ``field`` is the argument it is about."""

    code: int
    field: str
    message: str

    @property
    def description(self) -> str:
        return f"{self.field}: {self.message}"


class Open311Error(ValueError):
    """A request the GeoReport endpoints refuse; ``status`` is the HTTP status to send."""

    def __init__(self, errors: Sequence[SpecError], *, status: int) -> None:
        super().__init__("; ".join(e.description for e in errors))
        self.errors = list(errors)
        self.status = status

    @classmethod
    def one(cls, status: int, field_name: str, message: str) -> Open311Error:
        return cls([SpecError(status, field_name, message)], status=status)


# --- services ---------------------------------------------------------------------------

def service(cat: Category) -> dict[str, Any]:
    """One category as a GeoReport service (no extra attributes, answered in real time)."""
    withheld = cat.code[:2] in PUBLIC_WITHHELD_CLASSES
    return {
        "service_code": cat.code,
        "service_name": cat.name,
        "description": f"{cat.name_en} ({cat.class_name} · {cat.class_name_en}); "
                       f"default severity {cat.default_severity.value}"
                       + (WITHHELD_NOTE if withheld else ""),
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(
            (cat.name, cat.name_en, cat.class_name, cat.class_name_en))),
        "group": cat.class_name,
    }


def services() -> list[dict[str, Any]]:
    return [service(cat) for cat in categories().values()]


def service_definition(code: str) -> dict[str, Any]:
    """The definition of one service: ours carry no attributes (``metadata`` is false)."""
    if code not in categories():
        raise Open311Error.one(404, "service_code", f"service_code {code!r} was not found")
    return {"service_code": code, "attributes": []}


def discovery(*, url: str, contact: str, changeset: str) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": "api_key is a bearer token issued by the dispatch centre "
                       "(grid-dispatch tokens create --role integration --name <who>)",
        "endpoints": [{"specification": SPEC_URL, "url": url, "changeset": changeset,
                       "type": "production", "formats": ["text/xml", "application/json"]}],
    }


# --- statuses and times -----------------------------------------------------------------

def open311_status(status: Status) -> Open311Status:
    return Open311Status.OPEN if status.open else Open311Status.CLOSED


_NOTES = {
    Status.COLLECTED: "已采集，待上报", Status.REPORTED: "已上报，待核实受理",
    Status.REGISTERED: "已立案，待派遣", Status.DISPATCHED: "已派遣至网格，待签收",
    Status.SIGNED: "处置人员已签收", Status.IN_PROGRESS: "处置中",
    Status.FEEDBACK: "已反馈处置结果，待核查", Status.VERIFIED: "已核查回访，待结案",
    Status.CLOSED: "已办结", Status.REOPENED: "已重新办理", Status.ARCHIVED: "已办结归档",
    Status.RETURNED: "已退单，待改派", Status.CANCELLED: "已作废",
}

_NOTICE = {
    Severity.URGENT: "紧急事件：2小时内处置到位",
    Severity.ROUTINE: "一般事件：4小时至1个工作日内办理",
    Severity.COMPLEX: "复杂事件：5至7个工作日内办结，最长延至15个工作日",
}


def service_notice(severity: str) -> str:
    """What the centre undertakes for this severity (the SLA a resident can hold us to)."""
    return _NOTICE[Severity(severity)]


def status_notes(status: Status, reason: str = "") -> str:
    """Why the request is where it is: the step in words, plus the reason when one was given
    (the public view's reason, already scrubbed)."""
    note = f"{_NOTES[status]}（{status.value}）"
    return f"{note}：{reason}" if reason.strip() else note


def w3c(ts: float | None) -> str | None:
    """Epoch seconds as the spec's W3C date-time, always with its offset (+08:00)."""
    return None if ts is None else localtime.iso(ts)


def parse_w3c(raw: str, name: str) -> float:
    """A W3C/ISO 8601 date-time as epoch seconds; without an offset it is Beijing time."""
    try:
        return localtime.parse(raw).timestamp()
    except ValueError:
        raise Open311Error.one(400, name, f"{raw!r} is not a W3C date-time such as "
                               "2024-05-01T00:00:00+08:00") from None


# --- privacy ----------------------------------------------------------------------------

def publishable(view: dict[str, Any]) -> bool:
    return view["category"]["code"][:2] not in PUBLIC_WITHHELD_CLASSES


# --- service requests -------------------------------------------------------------------

def agency_responsible(view: dict[str, Any], *, grids: GridSet) -> str:
    """The grid chain that owns the request: street › community › general › micro-grid."""
    grid = view["grid"]
    try:
        names = [ref.name for ref in grids.chain(grid["micro"])]
    except UnknownGridError:  # stored under an earlier grid set: the codes still say who
        names = [grid["total"], grid["general"], grid["micro"]]
    return " › ".join([grid["street_name"] or grid["street"], *names])


def request_view(view: dict[str, Any], *, agency: str) -> dict[str, Any]:
    """One event (its public view) as a GeoReport service request, in the spec's order."""
    code = view["category"]["code"]
    status = Status(view["status"])
    state = open311_status(status)
    media = view["attachments"]
    return {
        "service_request_id": view["id"],
        "status": state.value,
        "status_notes": status_notes(status, view["reason"]),
        "service_name": view["category"]["name"],
        "service_code": code,
        "description": view["description"],
        "agency_responsible": agency,
        "service_notice": service_notice(view["severity"]),
        "requested_datetime": w3c(view["created_at"]),
        "updated_datetime": w3c(view["updated_at"]),
        "expected_datetime": w3c(view["due_at"]) if state is Open311Status.OPEN else None,
        "address": view["location"]["address"] or None,
        "address_id": None,
        "zipcode": None,
        "lat": view["location"]["lat"],
        "long": view["location"]["lon"],
        "media_url": media[0] if media else None,
    }
