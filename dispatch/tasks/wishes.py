"""The wish wall (心愿墙): residents post small wishes, the centre publishes them, party members
claim them (点单 → 派单 → 接单).

A wish is an event of category :data:`WISH_CATEGORY` from any channel (the residents' QR form
offers it). It is *submitted* while reported, *published* once the centre registers it and
nobody holds it, *claimed* while a worker has it in hand, and *done* when closed. Claiming is
an assignment the worker makes to themselves (:meth:`TaskService.assign` with ``claim``), so
the task, the SLA clocks and the change stream are those of any other dispatch.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from dispatch.access.policy import Permission, require
from dispatch.access.roles import Actor
from dispatch.access.scope import DISTRICT, Scope
from dispatch.events.models import Status
from dispatch.events.service import EventFilter, EventService
from dispatch.privacy.disclosure import disclosure_for
from dispatch.store.events import EventStore
from dispatch.tasks.lifecycle import StepError
from dispatch.tasks.service import WISH_CATEGORY, TaskService

__all__ = ["WISH_CATEGORY", "WishState", "WishWall", "wish_state"]

#: Event statuses a published wish waits in: registered, or back after a decline or a return.
CLAIMABLE = frozenset({Status.REGISTERED, Status.RETURNED, Status.REOPENED})
_PAGE = 1_000


class WishState(StrEnum):
    SUBMITTED = "submitted"  # 点单: a resident posted it
    PUBLISHED = "published"  # 派单: on the wall, waiting for a claim
    CLAIMED = "claimed"  # 接单: a worker has it in hand
    DONE = "done"


def wish_state(status: Status, *, task: str = "") -> WishState | None:
    """Where a wish stands on the wall; ``None`` for a cancelled one (off the wall)."""
    if status in (Status.CLOSED, Status.ARCHIVED):
        return WishState.DONE
    if status is Status.CANCELLED:
        return None
    if status in (Status.COLLECTED, Status.REPORTED):
        return WishState.SUBMITTED
    if status in CLAIMABLE and not task:
        return WishState.PUBLISHED
    return WishState.CLAIMED


class WishWall:
    def __init__(self, *, events: EventService, store: EventStore, tasks: TaskService) -> None:
        self._events = events
        self._store = store
        self._tasks = tasks

    def list(self, *, actor: Actor, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
        """The newest ``limit`` wishes the caller may read, by state; each view carries its
        ``wish_state`` and open ``task`` (if any)."""
        scope = require(actor, Permission.EVENT_READ)
        views = self._events.list(EventFilter(category=WISH_CATEGORY, scope=scope,
                                              reader=actor.name, limit=limit),
                                  disclosure=disclosure_for(actor), actor=actor)
        tasks = {row["id"]: row["task"] for row in
                 self._store.fields_many([v["id"] for v in views], ("id", "task"))}
        out: dict[str, list[dict[str, Any]]] = {s.value: [] for s in WishState}
        for view in views:
            state = wish_state(Status(view["status"]), task=tasks.get(view["id"], ""))
            if state is not None:
                view |= {"wish_state": state.value, "task": tasks.get(view["id"], "")}
                out[state.value].append(view)
        return out

    def counts(self, scope: Scope = DISTRICT) -> dict[str, int]:
        """Wishes by state within ``scope`` (all of them, not a page): the operator screen's
        figures. Reads the category index and four fields of each wish."""
        counts = {s.value: 0 for s in WishState}
        offset = 0
        fields = ("status", "task", "street", "micro", "general", "total")
        while ids := self._store.ids_where(category=WISH_CATEGORY, offset=offset, limit=_PAGE):
            offset += len(ids)
            for row in self._store.fields_many(ids, fields):
                if not row["status"] or not scope.admits(
                        street=row["street"], grids=(row["micro"], row["general"], row["total"])):
                    continue
                state = wish_state(Status(row["status"]), task=row["task"])
                if state is not None:
                    counts[state.value] += 1
        return counts

    def publish(self, event_id: str, *, actor: Actor) -> dict[str, Any]:
        """The centre puts a submitted wish on the wall (the event is registered)."""
        h = self._store.get(event_id)
        require(actor, Permission.EVENT_MANAGE, **_place(h))
        _check_wish(h)
        if Status(h["status"]) is not Status.REPORTED:
            raise StepError(f"wish {event_id} is {h['status']!r}; only a submitted (reported) "
                            "wish is published", field="status", value=h["status"])
        view = self._events.move(event_id, Status.REGISTERED, actor=actor)
        return view | {"wish_state": WishState.PUBLISHED.value, "task": ""}

    def claim(self, event_id: str, *, actor: Actor, note: str = "") -> dict[str, Any]:
        """A party member takes a published wish: a task of their own, created atomically
        (two claiming at once: one wins, the other is told who)."""
        h = self._store.get(event_id)
        require(actor, Permission.WISH_CLAIM, **_place(h))
        _check_wish(h)
        if Status(h["status"]) not in CLAIMABLE or h.get("task"):
            raise StepError(f"wish {event_id} is not on the wall (its event is "
                            f"{h['status']!r}); only published wishes are claimed",
                            field="status", value=h["status"])
        return self._tasks.assign(event_id, actor.name, actor=actor, note=note, claim=True)


def _check_wish(h: dict[str, str]) -> None:
    if h["category"] != WISH_CATEGORY:
        raise StepError(f"event {h['id']} is not a wish (category {h['category']}, a wish is "
                        f"{WISH_CATEGORY})", field="category", value=h["category"])


def _place(h: dict[str, str]) -> dict[str, Any]:
    return {"street": h["street"], "grids": (h["micro"], h["general"], h["total"])}
