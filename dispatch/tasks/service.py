"""Assigning events to workers and moving tasks through their steps, by the access policy.

The lifecycle table (:mod:`dispatch.tasks.lifecycle`) says which steps exist and who takes
them; this service checks the caller's grants at the event's place, works out the event's
move and its new deadline, and hands both to one atomic store write.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from dispatch.access.policy import Forbidden, Permission, permits, require
from dispatch.access.roles import Actor
from dispatch.events.models import Satisfaction, Severity, Status
from dispatch.events.workflow import Clock, due_at, escalation_tier, limit_minutes
from dispatch.privacy.mask import mask_phone
from dispatch.store.events import EventStore
from dispatch.store.tasks import EventMove, NewTask, TaskStore
from dispatch.store.workers import WorkerStore
from dispatch.tasks import lifecycle
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.notify import Notifier
from dispatch.workers.models import Worker

T, S = TaskStatus, Status
#: Event statuses an assignment may start from, and the moves it makes from each.
ASSIGN_FROM: dict[Status, tuple[Status, ...]] = {
    S.REPORTED: (S.REGISTERED, S.DISPATCHED),  # registered and dispatched in one step
    S.REGISTERED: (S.DISPATCHED,),
    S.RETURNED: (S.DISPATCHED,),  # 改派: reassigned after a decline or a return
    S.REOPENED: (S.DISPATCHED,),
}
#: The wish wall's category (心愿墙微心愿): the only events a worker may claim.
WISH_CATEGORY = "14002"
#: Acceptance clock when the SLA table has none for the dispatched step (minutes).
DEFAULT_ACCEPT_MINUTES = 30
MAX_TEXT = 500


class UnknownWorkerError(LookupError):
    def __init__(self, worker_id: str) -> None:
        super().__init__(f"worker {worker_id!r} is not on the roster")
        self.worker_id = worker_id


class TaskService:
    def __init__(self, *, tasks: TaskStore, events: EventStore, workers: WorkerStore,
                 clock: Clock, notifier: Notifier) -> None:
        self._tasks = tasks
        self._events = events
        self._workers = workers
        self._clock = clock
        self._notifier = notifier

    # --- the centre assigns ---------------------------------------------------------------
    def assign(self, event_id: str, worker_id: str, *, actor: Actor, note: str = "",
               claim: bool = False) -> dict[str, Any]:
        """Make the event a task of ``worker_id`` (one open task per event, atomically).

        ``claim``: a worker takes a published wish themselves (点单 → 接单)."""
        h = self._events.get(event_id)
        place = _place(h)
        if claim:
            require(actor, Permission.WISH_CLAIM, **place)
            if actor.name != worker_id:
                raise StepError("a wish is claimed by the worker themselves", field="worker",
                                value=worker_id)
            if h["category"] != WISH_CATEGORY:
                raise StepError(f"only wishes (category {WISH_CATEGORY}) are claimed; "
                                f"event {event_id} is {h['category']}", field="category",
                                value=h["category"])
        else:
            require(actor, Permission.EVENT_MANAGE, **place)
        worker = self._workers.get(worker_id)
        if worker is None:
            raise UnknownWorkerError(worker_id)
        if claim and not worker.party_member:
            raise StepError("wishes are claimed by party members (党员认领)", field="worker",
                            value=worker_id)
        current = Status(h["status"])
        if current not in ASSIGN_FROM:
            raise StepError(f"event {event_id} is {current.value!r}; only events that are "
                            f"{sorted(s.value for s in ASSIGN_FROM)} can be assigned",
                            field="status", value=current.value)
        now = self._clock.now()
        steps = (current, *ASSIGN_FROM[current])
        severity = Severity(h["severity"])
        moves = [EventMove(a.value, b.value,
                           due_at(h["category"], severity, b, entered=now))
                 for a, b in itertools.pairwise(steps)]
        accept = limit_minutes(h["category"], severity, S.DISPATCHED) or DEFAULT_ACCEPT_MINUTES
        task_id = self._tasks.assign(NewTask(
            event_id=event_id, worker_id=worker_id, status=T.ASSIGNED.value, moves=moves,
            street=h["street"], now=now, actor=actor.name, role=actor.role.value,
            accept_due=None if claim else now + accept * 60,
            fields={"note": _text(note, "note"), "micro": h["micro"],
                    "general": h["general"], "total": h["total"],
                    "accept_minutes": str(accept), "claimed": "1" if claim else ""}))
        view = self.get(task_id)
        self._notifier.assigned(worker, view)
        return view

    # --- any step ---------------------------------------------------------------------------
    def step(self, task_id: str, target: TaskStatus, *, actor: Actor, reason: str = "",
             note: str = "", satisfaction: str = "", photos: Sequence[str] = ()
             ) -> dict[str, Any]:
        t = self._tasks.get(task_id)
        h = self._events.get(t["event"])
        by = self._who(actor, t, h)
        current = TaskStatus(t["status"])
        step = lifecycle.check_step(current, target, by=by, reason=_text(reason, "reason"),
                                    note=_text(note, "note"), satisfaction=satisfaction)
        now = self._clock.now()
        fields: dict[str, str] = {}
        event_fields: dict[str, str] = {}
        if reason:
            fields["reason"] = reason
        if note:
            fields["note"] = event_fields["note"] = note
        if photos:
            fields["photos"] = json.dumps(list(photos))
        if satisfaction:
            fields["satisfaction"] = event_fields["satisfaction"] = satisfaction
        move = None
        if step.event_to is not None:
            move = EventMove(h["status"], step.event_to.value,
                             due_at(h["category"], Severity(h["severity"]), step.event_to,
                                    entered=now))
        self._tasks.step(task_id, expected=current.value, target=target.value, now=now,
                         actor=actor.name, role=actor.role.value, reason=reason,
                         fields=fields, event_fields=event_fields, closes=not target.open,
                         accepted=target is T.ACCEPTED, move=move)
        return self.get(task_id)

    def call_back(self, task_id: str, satisfaction: Satisfaction, *, actor: Actor,
                  note: str = "") -> dict[str, Any]:
        """The resident's verdict; a satisfied resident closes the case at once, a
        dissatisfied one leaves it for the centre to return (改派) or close."""
        view = self.step(task_id, T.CALLED_BACK, actor=actor, satisfaction=satisfaction.value,
                         note=note)
        if satisfaction is not Satisfaction.DISSATISFIED:
            view = self.step(task_id, T.CLOSED, actor=actor)
        return view

    def _who(self, actor: Actor, t: dict[str, str], h: dict[str, str]) -> lifecycle.Actor:
        """Field work is the assigned worker's alone; the rest is the centre's."""
        place = _place(h)
        if permits(actor, Permission.EVENT_MANAGE):
            require(actor, Permission.EVENT_MANAGE, **place)
            return lifecycle.Actor.CENTRE
        require(actor, Permission.EVENT_HANDLE, **place, assignee=t["worker"])
        if actor.name != t["worker"]:
            raise Forbidden(f"task {t['id']} is {t['worker']}'s, not {actor.name}'s",
                            permission=Permission.EVENT_HANDLE, actor=actor)
        return lifecycle.Actor.WORKER

    # --- reads ------------------------------------------------------------------------------
    def get(self, task_id: str) -> dict[str, Any]:
        t = self._tasks.get(task_id)
        return self._views([t])[0]

    def views_of(self, task_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Tasks as they are now (the live feed reads each changed task once a tick)."""
        return self._views(self._tasks.many(task_ids))

    def read(self, task_id: str, *, actor: Actor) -> dict[str, Any]:
        """One task, if the caller may read its event (or it is theirs)."""
        t = self._tasks.get(task_id)
        h = self._events.get(t["event"])
        require(actor, Permission.EVENT_READ, **_place(h), assignee=t["worker"])
        return self._views([t])[0]

    def board(self, *, actor: Actor, limit: int = 500) -> list[dict[str, Any]]:
        """Open tasks the caller may see, oldest assignment first (the board's columns)."""
        scope = require(actor, Permission.EVENT_READ)
        rows = self._tasks.many(self._tasks.open_ids(limit=limit))
        return self._views([t for t in rows if t["worker"] == actor.name or scope.admits(
            street=t["street"], grids=(t.get("micro", ""), t.get("general", ""),
                                       t.get("total", "")))])

    def of_worker(self, worker_id: str, *, actor: Actor, since: float | None = None
                  ) -> list[dict[str, Any]]:
        if actor.name != worker_id:
            require(actor, Permission.EVENT_MANAGE)
        return self._views(self._tasks.many(self._tasks.of_worker(worker_id, since=since)))

    def open_counts(self, worker_ids: Sequence[str]) -> dict[str, int]:
        return self._tasks.open_counts(worker_ids)

    def _views(self, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
        workers = {w.id: w for w in self._workers.many(list({t["worker"] for t in rows}))}
        now = self._clock.now()
        return [task_view(t, workers.get(t["worker"]), now=now) for t in rows]

    # --- the clock on acceptance ------------------------------------------------------------
    def escalate_unaccepted(self) -> int:
        """Tasks not accepted in time go up a tier: that tier's leader is told, and every
        screen shows the task as escalated. Returns how many moved up."""
        now = self._clock.now()
        changed = 0
        for t in self._tasks.many(self._tasks.accept_overdue(now)):
            if t["status"] != T.ASSIGNED.value:
                continue
            level = int(t.get("escalation") or 0) + 1
            top = level >= len(TIERS) - 1
            h = self._events.get(t["event"])
            leader = self._leader(h, level)
            minutes = int(t.get("accept_minutes") or DEFAULT_ACCEPT_MINUTES)
            if self._tasks.escalate(t["id"], expected=T.ASSIGNED.value, level=level,
                                    tier=escalation_tier(level), now=now,
                                    next_due=None if top else now + minutes * 60,
                                    notify=leader.id if leader else ""):
                changed += 1
                self._notifier.escalated(leader, self.get(t["id"]), tier=escalation_tier(level))
        return changed

    def _leader(self, h: dict[str, str], level: int) -> Worker | None:
        """The leader of the tier a task climbs to (general grid, then total grid); the
        street centre above them is the operators' screen itself."""
        code = {1: h["general"], 2: h["total"]}.get(level)
        return self._workers.leader_of(code) if code else None


TIERS = ("micro", "general", "total", "street")


def _place(h: dict[str, str]) -> dict[str, Any]:
    return {"street": h["street"], "grids": (h["micro"], h["general"], h["total"])}


def _text(value: str, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise StepError(f"{field} must be text of at most {MAX_TEXT} characters", field=field,
                        value=str(value)[:40])
    return value


def task_view(t: dict[str, str], worker: Worker | None, *, now: float) -> dict[str, Any]:
    """A task as screens and the API show it: the worker's phone masked."""
    status = TaskStatus(t["status"])
    due = float(t["accept_due"]) / 1000 if t.get("accept_due") else None
    level = int(t.get("escalation") or 0)
    return {
        "id": t["id"], "event": t["event"], "status": status.value,
        "worker": {"id": t["worker"], "name": worker.name if worker else "",
                   "role": worker.role.label if worker else "",
                   "phone": mask_phone(worker.phone) if worker else ""},
        "street": t["street"], "micro": t.get("micro", ""),
        "assigned_by": t.get("assigned_by", ""), "created_at": float(t["created_at"]),
        "updated_at": float(t["updated_at"]),
        "accept_due": due,
        "accept_overdue": bool(status is T.ASSIGNED and due is not None and now > due),
        "escalation": {"level": level, "tier": escalation_tier(level),
                       "notified": t.get("escalated_to", "")},
        "steps": {s.value: float(t[f"at_{s.value}"]) for s in TaskStatus
                  if t.get(f"at_{s.value}")} | {T.ASSIGNED.value: float(t["created_at"])},
        "note": t.get("note", ""), "reason": t.get("reason", ""),
        "satisfaction": t.get("satisfaction", ""),
        "photos": json.loads(t.get("photos") or "[]"),
        "claimed": bool(t.get("claimed")),
        "accept_minutes": int(t.get("accept_minutes") or 0),
        "rev": int(t.get("rev") or 1),
    }
