"""The situation page's dispatch: assigning from the candidates and the centre's task steps.

Both go through the task service, which asks the access policy at the event's place: a
button that reached a leader's page (it is never drawn there) would still be refused.
"""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, html
from flask import current_app

from dashboard.api.access import current_actor
from dashboard.components.dispatch_panel import candidates_section, task_section
from dashboard.i18n import Lang, t
from dashboard.pages.callbacks import PageCallbacks, clicked
from dispatch.access.policy import AccessDenied, Permission, permits
from dispatch.access.roles import Actor
from dispatch.events.models import Satisfaction, Status
from dispatch.store.events import EventNotFoundError
from dispatch.store.tasks import TaskMovedError, TaskNotFoundError, TaskTakenError
from dispatch.tasks.lifecycle import StepError, TaskStatus
from dispatch.tasks.recommender import place_of
from dispatch.tasks.service import ASSIGN_FROM, UnknownWorkerError

CANDIDATES = 5
_REFUSED = (StepError, TaskMovedError, TaskNotFoundError, UnknownWorkerError,
            EventNotFoundError, AccessDenied)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def section(view: dict, *, actor: Actor, lang: Lang) -> html.Div | None:
    """Candidates for an event waiting for a worker, or its open task; None for watchers."""
    if not permits(actor, Permission.EVENT_MANAGE):
        return None
    runtime = _runtime()
    if view.get("task"):
        try:
            return task_section(runtime.tasks.get(view["task"]), lang=lang)
        except TaskNotFoundError:
            return None
    if Status(view["status"]) in ASSIGN_FROM:
        found = runtime.recommender.for_place(place_of(view), limit=CANDIDATES)
        return candidates_section(view["id"], found, lang=lang)
    return None


def install(callbacks: PageCallbacks) -> None:
    @callbacks.callback(
        Output("assign-result", "children"),
        Input({"type": "assign", "event": ALL, "worker": ALL}, "n_clicks"),
        State("lang", "data"),
        prevent_initial_call=True,
        permission=Permission.EVENT_MANAGE,
    )
    def _assign(clicks, lang):
        trigger = clicked(clicks)
        if trigger is None:
            return dash.no_update
        lang = lang if lang in ("zh", "en") else _runtime().settings.language
        try:
            task = _runtime().tasks.assign(str(trigger.get("event", "")),
                                           str(trigger.get("worker", "")),
                                           actor=current_actor())
        except TaskTakenError as exc:
            return f"{t('dispatch.taken', lang)}: {exc.worker_id} ({exc.task_id})"
        except _REFUSED as exc:
            return str(exc)
        return f"{t('dispatch.assigned', lang)} → {task['worker']['name']} ({task['id']})"

    @callbacks.callback(
        Output("task-result", "children"),
        Input({"type": "task-step", "task": ALL, "to": ALL, "sat": ALL}, "n_clicks"),
        State("task-reason", "value"),
        State("lang", "data"),
        prevent_initial_call=True,
        permission=Permission.EVENT_MANAGE,
    )
    def _task_step(clicks, reason, lang):
        trigger = clicked(clicks)
        if trigger is None:
            return dash.no_update
        lang = lang if lang in ("zh", "en") else _runtime().settings.language
        tasks, actor = _runtime().tasks, current_actor()
        task_id, sat = str(trigger.get("task", "")), str(trigger.get("sat", ""))
        try:
            target = TaskStatus(str(trigger.get("to", "")))
            if target is TaskStatus.CALLED_BACK:
                task = tasks.call_back(task_id, Satisfaction(sat), actor=actor)
            else:
                task = tasks.step(task_id, target, actor=actor,
                                  reason=reason if isinstance(reason, str) else "")
        except ValueError as exc:  # an unknown status or satisfaction in a forged click
            if isinstance(exc, _REFUSED):
                return str(exc)
            return t("move.invalid", lang)
        except _REFUSED as exc:
            return str(exc)
        return f"{t('move.done', lang)} · {t('taskstatus.' + task['status'], lang)}"
