"""Reading and moving events: the public view, filtered lists, legal moves, escalation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor
from dispatch.access.scope import DISTRICT, Scope
from dispatch.events.models import Severity, Status, categories
from dispatch.events.workflow import (
    Clock,
    TransitionError,
    check_move,
    due_at,
    escalation_level,
    escalation_tier,
)
from dispatch.privacy.audit import AuditAction, AuditLog, RevealReason
from dispatch.privacy.disclosure import Disclosure, contact, disclosure_for, private_fields
from dispatch.privacy.scrub import scrub
from dispatch.privacy.vault import Vault
from dispatch.store.events import EventStore, StaleStatusError
from geo.model import street_names

#: Fields a move may set besides the status (who it went to, the call-back verdict, a note).
MOVE_FIELDS = ("assignee", "satisfaction", "note")


@dataclass(frozen=True, slots=True)
class EventFilter:
    status: Status | None = None
    category: str | None = None
    grid: str | None = None
    street: str | None = None
    since: float | None = None
    until: float | None = None
    overdue: bool | None = None
    #: drill events only (True), real events only (False: figures, exports), or both (None)
    exercise: bool | None = None
    offset: int = 0
    limit: int = 100
    scope: Scope = DISTRICT  # the reader's scope: events outside it are not listed
    reader: str = ""  # the reader's name: events assigned to them are listed wherever they are


_PAGE = 1000  # deadline index entries read per round trip
Views = list[dict[str, Any]]  # named: inside EventService, ``list`` is the method
Check = Callable[[dict[str, Any]], None]  # raises to refuse


class EventService:
    """Events as each reader may see them: public (scrubbed) unless asked for with the
    disclosure their grants give, and every read of personal data audited."""

    def __init__(self, *, store: EventStore, clock: Clock, vault: Vault,
                 audit: AuditLog) -> None:
        self._store = store
        self._clock = clock
        self._vault = vault
        self._audit = audit

    def get(self, event_id: str, *, timeline: bool = False,
            disclosure: Disclosure = Disclosure.PUBLIC, actor: Actor | None = None,
            check: Check | None = None) -> dict[str, Any]:
        """One event as ``disclosure`` allows; ``check`` sees its public view first and may
        refuse (a scope check) before anything personal is opened or audited."""
        h = self._store.get(event_id)
        view = public_view(h, now=self._clock.now())
        if check is not None:
            check(view)
        view = self._disclose(view, h, disclosure)
        if timeline:
            scrubbed = disclosure is Disclosure.PUBLIC
            view["timeline"] = [_entry(e, scrubbed=scrubbed)
                                for e in self._store.timeline(event_id)]
        if disclosure is Disclosure.MASKED:
            self._audit.read(actor=actor, target=event_id)
        return view

    def reveal(self, event_id: str, *, actor: Actor, reason: RevealReason, note: str = "",
               check: Check | None = None) -> dict[str, str]:
        """The reporter's name and phone in full, recorded with who asked and why; ``check``
        (the caller's ``personal.reveal`` grant at the event's place) may refuse first."""
        h = self._store.get(event_id)
        if check is not None:
            check(public_view(h, now=self._clock.now()))
        found = contact(h, self._vault)
        self._audit.record(AuditAction.REVEAL, actor=actor, target=event_id,
                           field="reporter", reason=reason.value, note=note)
        return found

    def _view(self, h: dict[str, str], disclosure: Disclosure, *, now: float
              ) -> dict[str, Any]:
        return self._disclose(public_view(h, now=now), h, disclosure)

    def _disclose(self, view: dict[str, Any], h: dict[str, str],
                  disclosure: Disclosure) -> dict[str, Any]:
        private = private_fields(h, disclosure, self._vault)
        view["description"] = private.pop("description")
        view["location"] |= {"address": private.pop("address"),
                             "building": private.pop("building")}
        view.update(private)
        return view

    def list(self, flt: EventFilter, *, disclosure: Disclosure = Disclosure.PUBLIC,
             actor: Actor | None = None) -> Views:
        found = self._list(flt, disclosure)
        if found and disclosure is Disclosure.MASKED:
            self._audit.record(AuditAction.LIST, actor=actor, target=found[0]["id"],
                               count=len(found), note=",".join(v["id"] for v in found[:50]))
        return found

    def _list(self, flt: EventFilter, disclosure: Disclosure) -> Views:
        now = self._clock.now()
        out: list[dict[str, Any]] = []
        offset = 0
        while len(out) < flt.limit + flt.offset:
            ids = self._store.ids_where(
                status=flt.status.value if flt.status else None, grid=flt.grid,
                street=flt.street, category=flt.category, since=flt.since, until=flt.until,
                offset=offset, limit=500)
            if not ids:
                break
            offset += len(ids)
            out += [self._disclose(v, h, disclosure) for h in self._store.get_many(ids)
                    if _matches(v := public_view(h, now=now), flt)]
        return out[flt.offset: flt.offset + flt.limit]

    def move(self, event_id: str, target: Status, *, actor: Actor, reason: str = "",
             extra: dict[str, str] | None = None) -> dict[str, Any]:
        current = self._store.get(event_id)
        if current.get("task"):
            raise TransitionError(f"event {event_id} has an open task ({current['task']}); "
                                  "it moves with the task's steps", field="task",
                                  value=current["task"])
        check_move(Status(current["status"]), target, actor=actor, reason=reason,
                   street=current.get("street", ""),
                   grids=(current.get(k, "") for k in ("micro", "general", "total")),
                   assignee=current.get("assignee", ""))
        extra = {k: v for k, v in (extra or {}).items() if k in MOVE_FIELDS}
        if extra.get("assignee") and not permits(actor, Permission.EVENT_MANAGE):
            raise TransitionError(f"only the centre dispatches: {actor.role.value!r} may not "
                                  "set who an event goes to", field="assignee",
                                  value=extra["assignee"])
        now = self._clock.now()
        due = due_at(current["category"], Severity(current["severity"]), target, entered=now)
        try:
            self._store.transition(event_id, expected=current["status"], target=target.value,
                                   now=now, due=due, actor=actor.name, role=actor.role.value,
                                   reason=reason, extra=extra)
        except StaleStatusError as exc:
            raise TransitionError(f"event {event_id} moved to {exc.current!r} meanwhile; "
                                  "reload and try again", field="status",
                                  value=target.value) from exc
        return self.get(event_id, disclosure=disclosure_for(actor), actor=actor)

    def escalate_overdue(self) -> int:
        """Raise the escalation tier of every overdue event; returns how many changed."""
        now = self._clock.now()
        # Read every due id first: escalating to the top tier takes an event out of the
        # index, which would shift later pages under a paging cursor.
        due: list[str] = []
        while ids := self._store.due_before(now, offset=len(due), limit=_PAGE):
            due += ids
        changed = 0
        for i in range(0, len(due), _PAGE):
            changed += sum(self._escalate(h, now)
                           for h in self._store.get_many(due[i:i + _PAGE]))
        return changed

    def _escalate(self, h: dict[str, str], now: float) -> bool:
        level = escalation_level(entered=float(h["entered_at"]), due=_float(h.get("due_at")),
                                 now=now)
        if level <= int(h.get("escalation") or 0):
            return False
        return self._store.escalate(h["id"], status=h["status"], entered=h["entered_at"],
                                    level=level, tier=escalation_tier(level), now=now)


def place(view: dict[str, Any]) -> dict[str, Any]:
    """Where an event is, as the access policy asks: its street and its grid chain."""
    grid = view["grid"]
    return {"street": grid["street"], "grids": (grid["micro"], grid["general"], grid["total"])}


def _matches(view: dict[str, Any], flt: EventFilter) -> bool:
    if flt.status and view["status"] != flt.status.value:
        return False
    if flt.category and view["category"]["code"] != flt.category:
        return False
    if flt.street and view["grid"]["street"] != flt.street:
        return False
    where = place(view)
    if flt.grid and flt.grid not in where["grids"]:
        return False
    if not flt.scope.admits(**where) and not (flt.reader and view["assignee"] == flt.reader):
        return False
    if flt.exercise is not None and bool(view.get("drill")) != flt.exercise:
        return False
    return flt.overdue is None or view["overdue"] == flt.overdue


def _float(value: str | None) -> float | None:
    return float(value) if value else None


def public_view(h: dict[str, str], *, now: float) -> dict[str, Any]:
    """The JSON shape of an event without its personal data (see ``private_fields``)."""
    cat = categories().get(h["category"])
    due = _float(h.get("due_at"))
    status = Status(h["status"])
    level = int(h.get("escalation") or 0)
    return {
        "id": h["id"],
        "status": status.value,
        "source": h["source"],
        "category": {"code": h["category"], "name": cat.name if cat else "",
                     "name_en": cat.name_en if cat else ""},
        "severity": h["severity"],
        "location": {"lon": float(h["lon"]), "lat": float(h["lat"])},
        "grid": {"micro": h["micro"], "general": h["general"], "total": h["total"],
                 "street": h["street"], "street_name": street_names().get(h["street"], ("",))[0]},
        "assignee": h.get("assignee", ""),
        "task": h.get("task", ""),
        "attachments": json.loads(h.get("attachments") or "[]"),
        "external_id": h.get("external_id", ""),
        "created_at": float(h["created_at"]),
        "updated_at": float(h["updated_at"]),
        "occurred_at": h.get("occurred_at") or None,
        "entered_at": float(h["entered_at"]),
        "due_at": due,
        "overdue": bool(status.open and due is not None and now > due),
        "escalation": {"level": level, "tier": escalation_tier(level)},
        "count": int(h.get("count") or 1),
        "rev": int(h.get("rev") or 1),
        "drill": h.get("drill") or "",
    }


LIVE_FIELDS = ("id", "status", "source", "category", "severity", "location", "grid",
               "created_at", "updated_at", "entered_at", "due_at", "overdue", "escalation",
               "count", "rev", "drill")


_OPEN = frozenset(s.value for s in Status if s.open)
#: The hash fields :func:`live_view` reads ("id" first: it tells a missing event).
LIVE_HASH_FIELDS = ("id", "status", "source", "category", "severity", "lon", "lat", "address",
                    "building", "micro", "general", "total", "street", "created_at",
                    "updated_at", "entered_at", "due_at", "escalation", "count", "rev", "drill")


def live_view(h: dict[str, str], *, now: float) -> dict[str, Any]:
    """The smaller shape live screens keep for every open event (details come on demand).

    Built directly from the hash: this runs for every change of every event on every tick.
    """
    cat = categories().get(h["category"])
    due = float(h["due_at"]) if h.get("due_at") else None
    level = int(h.get("escalation") or 0)
    return {
        "id": h["id"], "status": h["status"], "source": h["source"],
        "category": {"code": h["category"], "name": cat.name if cat else "",
                     "name_en": cat.name_en if cat else ""},
        "severity": h["severity"],
        "location": {"lon": float(h["lon"]), "lat": float(h["lat"]), "address": h["address"],
                     "building": h["building"]},
        "grid": {"micro": h["micro"], "general": h["general"], "total": h["total"],
                 "street": h["street"], "street_name": _street_name(h["street"]),
                 "street_name_en": _street_name(h["street"], en=True)},
        "created_at": float(h["created_at"]), "updated_at": float(h["updated_at"]),
        "entered_at": float(h["entered_at"]), "due_at": due,
        "overdue": bool(h["status"] in _OPEN and due is not None and now > due),
        "escalation": {"level": level, "tier": escalation_tier(level)},
        "count": int(h.get("count") or 1), "rev": int(h.get("rev") or 1),
        "drill": h.get("drill") or "",
    }


@cache
def _street_name(code: str, *, en: bool = False) -> str:
    names = street_names().get(code, ("", ""))
    return names[1] if en else names[0]


def _entry(e: dict[str, str], *, scrubbed: bool) -> dict[str, str | float]:
    keep = ("seq", "kind", "actor", "role", "at", "before", "after", "reason", "tier", "level",
            "count", "task", "worker", "notify")
    out: dict[str, str | float] = {k: e[k] for k in keep if k in e and e[k] != ""}
    out["at"] = float(out["at"])
    if scrubbed and "reason" in out:
        out["reason"] = scrub(str(out["reason"]))
    return out

