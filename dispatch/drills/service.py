"""Planning and running drills: the coordinator's verbs, checked, then written by the store.

Every write goes through :class:`DrillService` (the API, the command line and the simulators
alike), so a simulated drill takes the same path as a real one.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from dispatch.access.roles import Actor
from dispatch.drills import planning
from dispatch.drills.clock import DrillClock
from dispatch.drills.models import (
    DrillAction,
    DrillIn,
    DrillKind,
    DrillStatus,
    MusterPoint,
    ResponderStatus,
    next_status,
)
from dispatch.drills.scenarios import Scenario, scenario
from dispatch.events.workflow import Clock
from dispatch.store.drills import DrillStore, NewDrill
from dispatch.workers.models import Worker
from dispatch.workers.roster import LOCAL_TZ
from geo.grids import GridSet


class Roster(Protocol):
    def many(self, ids: Sequence[str]) -> list[Worker]: ...
    def all_workers(self) -> list[Worker]: ...


class HouseholdCounts(Protocol):
    def counts(self) -> dict[str, int]: ...
    def priority_counts(self, micros: Sequence[str]) -> dict[str, int]: ...


@dataclass
class DrillService:
    store: DrillStore
    grids: GridSet
    roster: Roster
    households: HouseholdCounts
    clock: Clock
    scenarios_file: Any = None
    notifier: Any = None  # dispatch.tasks.notify.Notifier: tells responders a muster began

    # --- planning ---------------------------------------------------------------------
    def plan(self, spec: DrillIn, *, actor: Actor) -> dict[str, Any]:
        """Check the scope, scenario and people, then store the drill as planned."""
        planning.check_scope(self.grids, spec.scope)
        sc = self._scenario(spec.scenario)
        drill_id = self._new_id()
        now = self.clock.now()
        header = self._header(drill_id, spec, sc, actor=actor, now=now)
        details: dict[str, Any] = {k: header[k] for k in (
            "id", "kind", "scenario", "scope", "scope_name", "title")}
        details |= {"target_s": float(header["target_s"]), "pass_share": spec.pass_share,
                    "speed": spec.speed, "simulated": spec.simulated}
        responders: dict[str, int] = {}
        if spec.kind is DrillKind.MUSTER:
            responders, extra = self._muster_plan(spec, sc)
            header |= {"participants": str(len(responders)),
                       f"n_{ResponderStatus.NOTIFIED.value}": str(len(responders)),
                       "points": orjson.dumps(extra["points"]).decode()}
            details |= extra
        else:
            extra = self._sweep_plan(spec)
            header |= {"households": str(sum(extra["households"].values())), "swept": "0"}
            details |= extra
        self.store.create(NewDrill(id=drill_id, header=header, responders=responders,
                                   details=details, now=now, actor=actor.name,
                                   role=actor.role.value))
        return self.view(drill_id)

    def _header(self, drill_id: str, spec: DrillIn, sc: Scenario, *, actor: Actor,
                now: float) -> dict[str, str]:
        name = planning.scope_name(self.grids, spec.scope)
        title = spec.title or f"{name} · {sc.label} · " + (
            "15分钟集结" if spec.kind is DrillKind.MUSTER else "15分钟入户摸排")
        return {"id": drill_id, "kind": spec.kind.value, "scenario": sc.name,
                "scope": spec.scope, "scope_name": name, "title": title,
                "status": DrillStatus.PLANNED.value, "target_s": f"{spec.target_minutes * 60:g}",
                "pass_share": f"{spec.pass_share:g}", "speed": f"{spec.speed:g}",
                "simulated": "1" if spec.simulated else "0", "created_at": f"{now:.3f}",
                "coordinator": actor.name}

    def _muster_plan(self, spec: DrillIn, sc: Scenario) -> tuple[dict[str, int], dict[str, Any]]:
        roles = spec.roles or tuple(r.value for r in sc.roles)
        people = planning.participants(self.roster.all_workers(), scope=spec.scope,
                                       roles=roles, team=spec.team)
        if not people:
            raise planning.TeamError("participants", [f"nobody of roles {list(roles)} in "
                                                      f"scope {spec.scope}"])
        points: Sequence[MusterPoint] = spec.points or planning.default_points(
            self.grids, spec.scope, sc)
        where = planning.assign_points(people, points)
        team = "team" if spec.team else ""
        return where, {
            "points": [p.model_dump() for p in points],
            "participants": [[w.id, w.grid, where[w.id], w.role.value, team] for w in people]}

    def _sweep_plan(self, spec: DrillIn) -> dict[str, Any]:
        prefix = planning.scope_prefix(spec.scope)
        counts = {m: n for m, n in self.households.counts().items() if m.startswith(prefix)}
        if not counts:
            raise planning.TeamError("households", [f"no household is loaded in scope "
                                                    f"{spec.scope}"])
        return {"households": counts,
                "priority": self.households.priority_counts(sorted(counts))}

    # --- running ------------------------------------------------------------------------
    def act(self, drill_id: str, action: DrillAction, *, actor: Actor) -> dict[str, Any]:
        """Start, pause, resume, finish or abort, if the drill's status allows it."""
        status = DrillStatus(self.store.header(drill_id)["status"])
        target = next_status(drill_id, status, action)
        self.store.move(drill_id, expected=status.value, target=target.value,
                        action=action.value, now=self.clock.now(), actor=actor.name,
                        role=actor.role.value)
        view = self.view(drill_id)
        if action is DrillAction.START and view["kind"] == DrillKind.MUSTER.value:
            self._call_out(drill_id, view)
        return view

    def _call_out(self, drill_id: str, view: dict[str, Any]) -> None:
        """Each responder is told through the message gateway (their page hears the feed)."""
        if self.notifier is None:
            return
        points = self.store.points_of(drill_id)
        minutes = view["clock"]["target_s"] / 60
        for worker in self.roster.many(sorted(points)):
            point = view["points"][points[worker.id]]["name"] if view["points"] else ""
            self.notifier.drill_called(worker, title=view["title"], point=point,
                                       minutes=minutes)

    def mine(self, worker: Worker) -> list[dict[str, Any]]:
        """The live drills a worker takes part in: called to a muster, or sweeping their grid."""
        out = []
        now = self.clock.now()
        for h in self.store.headers(sorted(self.store.live_ids())):
            view = drill_view(h, now=now)
            if view["kind"] == DrillKind.MUSTER.value:
                status = self.store.responder_status(view["id"], worker.id)
                if status is None:
                    continue
                point = self.store.points_of(view["id"]).get(worker.id, 0)
                view |= {"me": {"status": status, "point": view["points"][point]
                                if view["points"] else None}}
            elif worker.grid.startswith(planning.scope_prefix(view["scope"])):
                view |= {"me": {"grid": worker.grid}}
            else:
                continue
            out.append(view)
        return out

    # --- reading ----------------------------------------------------------------------
    def view(self, drill_id: str) -> dict[str, Any]:
        return drill_view(self.store.header(drill_id), now=self.clock.now())

    def recent(self, *, limit: int = 50) -> list[dict[str, Any]]:
        now = self.clock.now()
        return [drill_view(h, now=now) for h in self.store.headers(self.store.ids(limit=limit))]

    def live(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        return [drill_view(h, now=now) for h in self.store.headers(sorted(self.store.live_ids()))]

    def purge(self, drill_id: str) -> dict[str, int]:
        self.store.header(drill_id)  # an unknown id is refused, not silently "purged"
        return self.store.purge(drill_id)

    def _scenario(self, name: str) -> Scenario:
        return scenario(name, self.scenarios_file) if self.scenarios_file else scenario(name)

    def _new_id(self) -> str:
        stamp = datetime.fromtimestamp(self.clock.now(), LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
        return f"DR{stamp}-{secrets.token_hex(2)}"


def drill_view(h: dict[str, str], *, now: float) -> dict[str, Any]:
    """The JSON shape of one drill: header, the clock a screen counts down from, progress."""
    clock = DrillClock.of(h)
    kind = DrillKind(h["kind"])
    if kind is DrillKind.MUSTER:
        total = int(h.get("participants") or 0)
        done = int(h.get(f"n_{ResponderStatus.ARRIVED.value}") or 0)
        steps = {s.value: int(h.get(f"n_{s.value}") or 0) for s in ResponderStatus}
    else:
        total, done, steps = int(h.get("households") or 0), int(h.get("swept") or 0), {}
    return {
        "id": h["id"], "kind": kind.value, "scenario": h["scenario"], "scope": h["scope"],
        "scope_name": h.get("scope_name", ""), "title": h.get("title", ""),
        "status": h["status"], "simulated": h.get("simulated") == "1",
        "coordinator": h.get("coordinator", ""), "created_at": float(h["created_at"]),
        "pass_share": float(h.get("pass_share") or 1),
        "clock": clock.as_json(now),
        "progress": {"total": total, "done": done,
                     "share": round(done / total, 4) if total else 0.0, "steps": steps},
        "points": orjson.loads(h["points"]) if h.get("points") else [],
    }
