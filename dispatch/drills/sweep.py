"""The household sweep: sweepers report households (one by one or a building at once), the
map colours micro-grids by share reached, special populations not yet reached come first,
and a household needing help becomes an event in dispatch.

Reports are checked against the resident base and the drill's scope inside the store's
script: a batch naming one unknown household stores nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.access.roles import Actor
from dispatch.drills.models import DrillChange, DrillKind, HouseholdStatus, KindError
from dispatch.drills.planning import scope_prefix
from dispatch.drills.scenarios import scenario
from dispatch.events.intake import Intake, Report
from dispatch.events.models import EventIn, Severity, Source
from dispatch.events.workflow import Clock
from dispatch.households.models import BUILDING_ID, HOUSEHOLD_ID, building_of
from dispatch.privacy.vault import Vault
from dispatch.store.drills import DrillStore, Swept
from dispatch.workers.roster import LOCAL_TZ
from geo.grids import GridSet

MAX_REPORTS = 500
HELP_CATEGORY = "13001"  # 特殊人群关爱: the centre follows up a household needing help


class SweepItem(BaseModel):
    """One household, or a whole building at once (all its households, the same finding)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    household: str = Field(default="", pattern=f"^({HOUSEHOLD_ID.pattern[1:-1]})?$")
    building: str = Field(default="", pattern=f"^({BUILDING_ID.pattern[1:-1]})?$")
    status: HouseholdStatus
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _one_target(self) -> SweepItem:
        if bool(self.household) == bool(self.building):
            raise ValueError("give exactly one of household or building")
        return self


class SweepBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reports: list[SweepItem] = Field(min_length=1, max_length=MAX_REPORTS)


class Households(Protocol):
    """What a sweep reads of the resident base's store (``HouseholdStore``)."""

    def ids(self, micro: str) -> list[str]: ...
    def ids_in_building(self, building_id: str) -> list[str]: ...
    def buildings(self, micro: str) -> dict[str, int]: ...
    def priority_many(self, micros: Iterable[str]) -> dict[str, set[str]]: ...


class EmptyBuildingError(KeyError):
    def __init__(self, building: str) -> None:
        super().__init__(building)
        self.building = building

    def __str__(self) -> str:
        return f"building {self.building!r} has no household in the resident base"


@dataclass
class SweepDesk:
    store: DrillStore
    households: Households
    base: Any  # HouseholdBase: opened records, masked views, the priority list
    intake: Intake
    grids: GridSet
    vault: Vault
    clock: Clock
    _totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    _spots: dict[str, tuple[float, float]] = field(default_factory=dict)

    def report(self, drill_id: str, batch: SweepBatch, *, actor: Actor) -> dict[str, Any]:
        """Store a batch; raise events for households needing help; return the counts."""
        header = self._sweep(drill_id)
        items, notes = self._expand(batch)
        swept = self.store.sweep(drill_id, items, prefix=scope_prefix(header["scope"]),
                                 now=self.clock.now(), actor=actor.name, role=actor.role.value)
        if notes:
            self.store.put_notes(drill_id, {h: self.vault.seal("drill_note", n)
                                            for h, n in notes.items()})
        helped = [h for h, s in items if s == HouseholdStatus.NEEDS_HELP.value]
        events = self._raise_help(drill_id, helped, notes, actor=actor) if helped else []
        return {"t": swept.t, "new": swept.new, "swept": swept.swept, "reported": len(items),
                "events": events, "seq": swept.seq}

    def _expand(self, batch: SweepBatch) -> tuple[list[tuple[str, str]], dict[str, str]]:
        items: dict[str, str] = {}
        notes: dict[str, str] = {}
        for item in batch.reports:
            ids = [item.household] if item.household else self.households.ids_in_building(
                item.building)
            if not ids:
                raise EmptyBuildingError(item.building)
            for hh in ids:
                items[hh] = item.status.value
                if item.note:
                    notes[hh] = item.note
        return list(items.items()), notes

    def _raise_help(self, drill_id: str, helped: list[str], notes: dict[str, str], *,
                    actor: Actor) -> list[str]:
        records = self.base.views(helped, reveal=True)
        by_id = {r["id"]: r for r in records}
        reports = []
        for hh in helped:
            lon, lat = self._spot(hh[:17])
            note = notes.get(hh, "")
            text = "【演练 DRILL】入户摸排：需要帮助" + (f" · {note}" if note else "")
            reports.append(Report(
                data=EventIn(category=HELP_CATEGORY, severity=Severity.URGENT, lon=lon,
                             lat=lat, description=text,
                             address=by_id.get(hh, {}).get("address", ""),
                             building=building_of(hh)),
                source=Source.WORKER, idempotency_key=f"drill-{drill_id}-{hh}", drill=drill_id))
        created = self.intake.submit_many(reports, actor=actor)
        ids = [c.id for c in created]
        for hh, event_id in zip(helped, ids, strict=True):
            self.store.append(drill_id, DrillChange.HELP.value, now=self.clock.now(),
                              actor=actor.name, role=actor.role.value,
                              fields={"household": hh, "event": event_id}, events=[event_id])
        return ids

    def _spot(self, micro: str) -> tuple[float, float]:
        spot = self._spots.get(micro)
        if spot is None:
            p = shapely.point_on_surface(self.grids.geometry(micro))
            spot = self._spots[micro] = (p.x, p.y)
        return spot

    # --- progress -----------------------------------------------------------------------
    def progress(self, drill_id: str) -> dict[str, Any]:
        """Reached and total per micro-grid (what the map colours), and the totals."""
        self._sweep(drill_id)
        totals = self.planned(drill_id)["households"]
        swept = self.store.swept(drill_id)
        grids = {m: [swept.get(m, 0), n] for m, n in totals.items()}
        done = sum(swept.values())
        total = sum(totals.values())
        return {"grids": grids, "done": done, "total": total,
                "share": round(done / total, 4) if total else 0.0}

    def pending_priority(self, drill_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
        """Special-population households not yet reached, most urgent tag first (masked)."""
        header = self._sweep(drill_id)
        order = scenario(header["scenario"]).priority
        micros = sorted(self.planned(drill_id)["households"])
        reached = set(self.store.reached(drill_id))
        ids = self.base.priority_first(micros, reached=reached, limit=limit, order=order)
        return self.base.views(ids)

    def priority_ids(self, drill_id: str) -> set[str] | None:
        """The special-population households in a sweep's scope (the report's coverage);
        None for a muster."""
        header = self.store.header(drill_id)
        if header["kind"] != DrillKind.SWEEP.value:
            return None
        found = self.households.priority_many(
            sorted(self.planned(drill_id)["households"]))
        return set().union(*found.values()) if found else set()

    def households_of(self, drill_id: str, micro: str) -> dict[str, Any]:
        """One micro-grid's households by building, masked, each with what the sweep found."""
        self._sweep(drill_id)
        ids = sorted(self.households.ids(micro))
        found = self.store.household_states(drill_id, ids)
        views = {v["id"]: v for v in self.base.views(ids)}
        buildings: dict[str, list[dict[str, Any]]] = {}
        for hh in ids:
            row = views.get(hh, {"id": hh}) | {"status": found.get(hh, "")}
            buildings.setdefault(building_of(hh), []).append(row)
        return {"grid": micro, "reached": len(found), "total": len(ids),
                "buildings": [{"id": b, "households": rows} for b, rows in buildings.items()]}

    def publish_slots(self, drill_id: str, *, start: datetime, minutes: int = 20,
                      per_slot: int = 3, actor: Actor) -> dict[str, Any]:
        """Give every building in scope a time slot, a few buildings a slot per community,
        at the community's muster point; residents see theirs on the building's QR page."""
        header = self._sweep(drill_id)
        label = scenario(header["scenario"]).slot
        buildings = self._buildings(drill_id)
        slots: dict[str, str] = {}
        by_community: dict[str, int] = {}
        for building in buildings:
            n = by_community.get(building[:12], 0)
            by_community[building[:12]] = n + 1
            begin = start + timedelta(minutes=minutes * (n // per_slot))
            slots[building] = orjson.dumps({
                "drill": drill_id, "label": label, "from": _local(begin),
                "to": _local(begin + timedelta(minutes=minutes)),
                "place": self._place(building)}).decode()
        items = [[b, *(orjson.loads(v)[k] for k in ("label", "from", "to", "place"))]
                 for b, v in slots.items()]
        self.store.append(drill_id, DrillChange.SLOTS.value, now=self.clock.now(),
                          actor=actor.name, role=actor.role.value,
                          fields={"items": orjson.dumps(items).decode()}, slots=slots)
        return {"buildings": len(slots), "label": label, "from": _local(start)}

    def slots_for(self, micro: str) -> list[dict[str, Any]]:
        """The published slots of one micro-grid's buildings (for its QR page)."""
        buildings = self.households.buildings(micro)
        found = self.store.slots(sorted(buildings))
        return [{"building": b, **orjson.loads(v)} for b, v in sorted(found.items())]

    def _buildings(self, drill_id: str) -> list[str]:
        out: list[str] = []
        for micro in sorted(self.planned(drill_id)["households"]):
            out += sorted(self.households.buildings(micro))
        return out

    def _place(self, building: str) -> str:
        community = building[:12] + "00"
        try:
            return f"{self.grids.ref(community).name} 服务点"
        except KeyError:
            return "社区服务点"

    def planned(self, drill_id: str) -> dict[str, Any]:
        """What the drill was planned with (its first entry's details), read once."""
        found = self._totals.get(drill_id)
        if found is None:
            first = self.store.log_head(drill_id)
            found = self._totals[drill_id] = orjson.loads(first[1]["details"])
        return found

    def _sweep(self, drill_id: str) -> dict[str, str]:
        header = self.store.header(drill_id)
        if header["kind"] != DrillKind.SWEEP.value:
            raise KindError(drill_id, header["kind"], DrillKind.SWEEP)
        return header


def _local(when: datetime) -> str:
    """Chengdu wall time to the minute, as residents read it (no offset)."""
    if when.tzinfo is not None:
        when = when.astimezone(LOCAL_TZ)
    return when.strftime("%Y-%m-%dT%H:%M")


__all__ = ["SweepBatch", "SweepDesk", "SweepItem", "Swept"]
