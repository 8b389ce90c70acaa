"""What a resident's form post means: the choice they tapped, where they are, one report.

Residents choose from seven plain words, not our 5-digit table: operators re-classify at triage,
so each choice maps to the subclass most residents mean by it. The location is the QR code's
micro-grid (a point guaranteed inside it) unless the phone gave a precise position inside the
district, so a report never lands outside the grid set or on a neighbour by GPS drift.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import shapely

from dispatch.channels.resident.qr import micro_grids_in
from dispatch.events.intake import IntakeError, Problem, Report, parse
from dispatch.events.models import Source
from geo.grids import GridRef, GridSet, UnknownGridError
from geo.locate import Locator
from geo.model import Tier


@dataclass(frozen=True, slots=True)
class Choice:
    code: str
    zh: str
    en: str


#: The resident-facing list, in the order residents see it.
CHOICES: tuple[Choice, ...] = (
    Choice("01001", "市容环境", "Rubbish, litter"),
    Choice("06002", "设施损坏", "Broken facilities"),
    Choice("11001", "安全隐患", "Safety hazard"),
    Choice("10001", "邻里纠纷", "Neighbour dispute"),
    Choice("15002", "噪声扰民", "Noise"),
    Choice("14002", "民生诉求", "Help with daily life"),
    Choice("99001", "其他", "Other"),
)
CHOICE_BY_CODE = {c.code: c for c in CHOICES}

#: A phone fix less precise than this is coarser than the QR code's own micro-grid.
MAX_ACCURACY_M = 100.0
MAX_BUILDING = 100  # EventIn.building


class GridCodeError(ValueError):
    """The code in the QR link names no micro or general grid of the loaded set."""

    def __init__(self, code: str) -> None:
        super().__init__(f"grid code {code!r} is not a micro or general grid")
        self.code = code


@dataclass(frozen=True, slots=True)
class Place:
    lon: float
    lat: float
    by_phone: bool
    accuracy_m: float | None = None


def qr_grid(grids: GridSet, code: str) -> GridRef:
    """The grid a form is for: QR codes name micro-grids; a general code asks which one."""
    try:
        ref = grids.ref(code)
    except UnknownGridError:
        raise GridCodeError(code) from None
    if ref.tier not in (Tier.MICRO.value, Tier.GENERAL.value):
        raise GridCodeError(code)
    return ref


def micro_options(grids: GridSet, ref: GridRef) -> list[GridRef]:
    """Micro-grids a resident picks from: none for a micro code, the children of a general."""
    return [] if ref.tier == Tier.MICRO.value else micro_grids_in(grids, ref.code)


def building_label(value: str) -> str:
    return " ".join(value.split())[:MAX_BUILDING]


def grid_place(grids: GridSet, micro: str) -> Place:
    """A point surely inside the grid (a centroid can fall outside an L-shaped courtyard)."""
    point = shapely.point_on_surface(grids.geometry(micro))
    return Place(lon=point.x, lat=point.y, by_phone=False)


def phone_place(form: Mapping[str, str], *, locator: Locator) -> Place | None:
    """The phone's position, if given, finite, precise enough and inside the district."""
    try:
        lon, lat = float(form.get("lon", "")), float(form.get("lat", ""))
        accuracy = float(form.get("acc") or "nan")
    except ValueError:
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None
    if math.isfinite(accuracy) and not 0 <= accuracy <= MAX_ACCURACY_M:
        return None  # coarser than the QR code's grid, or a negative radius: not a real fix
    if locator.locate(lon, lat).outside:
        return None
    return Place(lon=lon, lat=lat, by_phone=True,
                 accuracy_m=round(accuracy) if math.isfinite(accuracy) else None)


def read_report(form: Mapping[str, str], *, ref: GridRef, grids: GridSet, locator: Locator,
                nonce: str) -> Report:
    """The report a post describes; IntakeError lists every problem, each by its field."""
    problems: list[Problem] = []
    micro = _micro(form, ref=ref, grids=grids, problems=problems)
    place = phone_place(form, locator=locator) or grid_place(grids, micro)
    category = form.get("category", "")
    if category not in CHOICE_BY_CODE:
        problems.append(Problem("category", "choose one of the listed types"))
        category = CHOICES[-1].code  # checked above; keeps parse from naming it twice
    payload = {
        "category": category,
        "description": form.get("description", "").replace("\r\n", "\n"),
        "reporter_name": form.get("name", ""), "reporter_phone": form.get("phone", ""),
        "lon": place.lon, "lat": place.lat,
        "address": " ".join(r.name for r in grids.chain(micro)),
        "building": building_label(form.get("b", "")),
    }
    try:
        data = parse(payload)
    except IntakeError as exc:
        problems += exc.problems
    if problems:
        raise IntakeError(problems)
    extra: dict[str, str | float] = {"qr_grid": ref.code,
                                     "located_by": "phone" if place.by_phone else "grid"}
    if place.accuracy_m is not None:
        extra["accuracy_m"] = place.accuracy_m
    return Report(data=data, source=Source.RESIDENT, idempotency_key=f"resident:{nonce}",
                  extra=extra)


def _micro(form: Mapping[str, str], *, ref: GridRef, grids: GridSet,
           problems: list[Problem]) -> str:
    """The micro-grid the report is for; on a bad pick, the general grid (to keep checking)."""
    if ref.tier == Tier.MICRO.value:
        return ref.code
    chosen = form.get("micro", "")
    if chosen in {r.code for r in micro_grids_in(grids, ref.code)}:
        return chosen
    problems.append(Problem("micro", "choose your building from the list"))
    return ref.code
