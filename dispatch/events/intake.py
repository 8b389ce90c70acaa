"""Intake: turn a report from any channel into a stored event, or say exactly what is wrong.

Validation happens before anything is written: a batch with one bad item stores nothing,
and the error names the item, the field and the problem. A location outside the district is
refused ("outside"), never snapped to the nearest grid.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from pydantic import ValidationError

from dispatch.access.roles import Actor
from dispatch.events.models import EventIn, Severity, Source, Status, categories
from dispatch.events.workflow import Clock, due_at
from dispatch.privacy.disclosure import TEXT_FIELDS, sealed
from dispatch.privacy.scrub import scrub
from dispatch.privacy.vault import Vault
from dispatch.store.events import Created, EventStore, NewEvent
from geo.locate import OUTSIDE, Locator

MAX_BATCH = 1000
#: Longer keys are refused, never cut: cut, two different reports would become one.
MAX_IDEMPOTENCY_KEY = 128
#: An enum's ``.value`` is a Python-level property; intake reads these once per event.
_TEXT = {m: m.value for enum in (Status, Source, Severity) for m in enum}




@dataclass(frozen=True, slots=True)
class Problem:
    field: str
    message: str
    index: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {"field": self.field, "message": self.message}
        if self.index is not None:
            out["index"] = self.index
        return out


class Fault(StrEnum):
    """What kind of bad input: unreadable, well-formed but wrong, or too much at once."""

    MALFORMED = "malformed"
    INVALID = "invalid"
    TOO_LARGE = "too-large"


class IntakeError(ValueError):
    """Bad input: carries every problem found, each naming its field (and item)."""

    def __init__(self, problems: Sequence[Problem], *, fault: Fault = Fault.INVALID) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = list(problems)
        self.fault = fault


@dataclass(frozen=True, slots=True)
class Report:
    """One validated report plus how the channel wants it stored."""

    data: EventIn
    source: Source
    idempotency_key: str = ""
    dedupe_key: str = ""
    dedupe_window_s: float = 0
    extra: dict[str, Any] = field(default_factory=dict)
    #: The drill that raised it: an exercise event, kept out of real figures and purged with it
    drill: str = ""


def parse(payload: Mapping[str, Any], *, index: int | None = None) -> EventIn:
    """Validate one report body; raises IntakeError naming each bad field."""
    if not isinstance(payload, Mapping):
        raise IntakeError([Problem("body", "must be a JSON object", index)],
                          fault=Fault.MALFORMED)
    try:
        return EventIn.model_validate(dict(payload))
    except ValidationError as exc:
        raise IntakeError([_problem(err, index) for err in exc.errors()]) from None


def _problem(err: Mapping[str, Any], index: int | None) -> Problem:
    loc = ".".join(str(p) for p in err["loc"]) or "body"
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "is not a known field"
    elif err["type"] == "string_too_long":
        message = f"is too long (at most {err['ctx']['max_length']} characters)"
    return Problem(loc, message.removeprefix("Value error, "), index)


class Intake:
    def __init__(self, *, store: EventStore, locator: Locator, clock: Clock,
                 vault: Vault) -> None:
        self._store = store
        self._locator = locator
        self._clock = clock
        self._vault = vault

    def submit(self, report: Report, *, actor: Actor) -> Created:
        return self.submit_many([report], actor=actor)[0]

    def submit_many(self, reports: Sequence[Report], *, actor: Actor) -> list[Created]:
        if len(reports) > MAX_BATCH:
            raise IntakeError([Problem("events", f"at most {MAX_BATCH} events per batch")],
                              fault=Fault.TOO_LARGE)
        located = self._locate(reports)
        now = self._clock.now()
        events = [self._new_event(r, loc, actor=actor, now=now)
                  for r, loc in zip(reports, located, strict=True)]
        return self._store.create_many(events)

    def _private(self, d: EventIn) -> dict[str, str]:
        """Contacts sealed; free text kept scrubbed, its original sealed beside it if the
        scrub changed it, so lists and live screens never open a seal."""
        seal = self._vault.seal
        out = {"reporter_name": seal("reporter_name", d.reporter_name),
               "reporter_phone": seal("reporter_phone", d.reporter_phone)}
        known = (d.reporter_name, d.reporter_phone)
        for name in TEXT_FIELDS:
            text: str = getattr(d, name)
            clean = scrub(text, known=known)
            out[name] = clean
            if clean != text:
                out[sealed(name)] = seal(name, text)
        return out

    def _locate(self, reports: Sequence[Report]) -> list[dict[str, str]]:
        if len(reports) == 1:
            idx = [self._locator.index_of(reports[0].data.lon, reports[0].data.lat)]
        else:
            lon = np.array([r.data.lon for r in reports], dtype=float)
            lat = np.array([r.data.lat for r in reports], dtype=float)
            idx = self._locator.indices(lon, lat).tolist()
        outside = [i for i, v in enumerate(idx) if v == OUTSIDE]
        if outside:
            index = (lambda i: i) if len(reports) > 1 else (lambda i: None)
            raise IntakeError([Problem("lon,lat", "outside: the location is not inside any grid "
                                       "of the district", index(i)) for i in outside])
        return [self._locator.chain_of(i) for i in idx]

    def _new_event(self, report: Report, grid: dict[str, str], *, actor: Actor,
                   now: float) -> NewEvent:
        d = report.data
        severity = d.severity or categories()[d.category].default_severity
        status = Status.REGISTERED if report.source is Source.OPERATOR else Status.REPORTED
        due = due_at(d.category, severity, status, entered=now)
        stamp = f"{now:.3f}"
        fields = {
            "status": _TEXT[status], "source": _TEXT[report.source], "category": d.category,
            "severity": _TEXT[severity], "lon": repr(d.lon), "lat": repr(d.lat),
            "external_id": d.external_id, "created_at": stamp, "updated_at": stamp,
            "entered_at": stamp,
            "due_at": "" if due is None else f"{due:.3f}", "escalation": "0", "count": "1",
            "rev": "1", "created_by": actor.name, **grid,
        }
        fields.update(self._private(d))
        # Computed fields only when there is something to compute (the store drops empties).
        if d.attachments:
            fields["attachments"] = json.dumps([str(u) for u in d.attachments])
        if d.occurred_at:
            fields["occurred_at"] = d.occurred_at.isoformat()
        if report.drill:
            fields["drill"] = report.drill
        if report.extra:
            fields["extra"] = self._vault.seal(
                "extra", json.dumps(report.extra, ensure_ascii=False))
        return NewEvent(
            fields=fields, created=now, due=due, actor=actor.name, role=actor.role.value,
            idempotency_key=report.idempotency_key, dedupe_key=report.dedupe_key,
            dedupe_window_ms=int(report.dedupe_window_s * 1000),
        )

