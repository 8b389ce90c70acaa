"""The event panel's dispatch part: ranked candidates to assign, or the open task's next step.

Only for callers who dispatch (``event.manage``); the server checks again on every click.
"""

from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from dashboard.i18n import Lang, t
from dispatch.events.models import Satisfaction
from dispatch.localtime import CST
from dispatch.tasks.lifecycle import STEPS, Actor, TaskStatus

T = TaskStatus


def candidates_section(event_id: str, candidates: list, *, lang: Lang) -> html.Div:
    """Best first; the first is what Enter (or one click) assigns."""
    if not candidates:
        return html.Div([html.H3(t("dispatch.recommend", lang), className="panel-sub"),
                         html.P(t("dispatch.none", lang), className="hint")],
                        className="dispatch")
    rows = []
    for i, c in enumerate(candidates):
        w = c.worker
        rows.append(html.Li([
            html.Div([html.Span(w.name, className="cand-name"),
                      html.Span(w.role.label, className="cand-role")],
                     className="cand-head"),
            html.Div(c.reason if lang == "en" else c.reason_zh, className="cand-reason"),
            html.Button(t("dispatch.assign", lang), n_clicks=0,
                        id={"type": "assign", "event": event_id, "worker": w.id},
                        className="move-button assign-button" + (" primary" if i == 0 else ""),
                        **({"data-first": "1"} if i == 0 else {})),
        ], className="candidate" + (" first" if i == 0 else "")))
    return html.Div([
        html.H3([t("dispatch.recommend", lang),
                 html.Span(t("dispatch.assign_first", lang), className="kbd-hint")],
                className="panel-sub"),
        html.Ol(rows, className="candidates"),
        html.Div(id="assign-result", className="move-result", role="status"),
    ], className="dispatch")


def task_section(task: dict, *, lang: Lang) -> html.Div:
    """The open task: who, where it stands, its clocks, and the centre's next steps."""
    status = TaskStatus(task["status"])
    worker = task["worker"]
    rows = [
        (t("task.worker", lang), f"{worker['name']} · {worker['role']} · {worker['phone']}"),
        (t("task.accept_by", lang), _time(task["accept_due"]) if task["accept_due"] else "—"),
    ]
    if task["note"]:
        rows.append((t("task.note", lang), task["note"]))
    if task["photos"]:
        rows.append((t("task.photos", lang), f"{len(task['photos'])}"))
    items: list = [
        html.H3([t("task.title", lang), html.Span(task["id"], className="mono kbd-hint")],
                className="panel-sub"),
        html.Div([html.Span(t(f"taskstatus.{status.value}", lang),
                            className=f"task-status ts-{status.value}"),
                  *([html.Span(f"{t('task.escalated', lang)} "
                               f"{t('tier1.' + task['escalation']['tier'], lang)}",
                               className="escalated")] if task["escalation"]["level"] else [])],
                 className="task-line"),
        html.Dl([html.Div([html.Dt(k), html.Dd(v)], className="panel-row") for k, v in rows],
                className="panel-rows"),
    ]
    buttons = _centre_buttons(task["id"], status, lang)
    if buttons:
        items += [html.Div(buttons, className="move-buttons"),
                  dcc.Input(id="task-reason", placeholder=t("task.reason_hint", lang),
                            maxLength=500, className="move-reason")]
    items.append(html.Div(id="task-result", className="move-result", role="status"))
    return html.Div(items, className="dispatch")


def _centre_buttons(task_id: str, status: TaskStatus, lang: Lang) -> list:
    out = []
    for (frm, to), step in STEPS.items():
        if frm is not status or step.by is not Actor.CENTRE:
            continue
        if to is T.CALLED_BACK:
            call = t("task.callback", lang)
            out += [html.Button(f"{call} · {t('satisfaction.' + s.value, lang)}", n_clicks=0,
                                className="move-button",
                                id={"type": "task-step", "task": task_id, "to": to.value,
                                    "sat": s.value}) for s in Satisfaction]
            continue
        label = {T.VERIFIED: "task.verify", T.RETURNED: "task.return",
                 T.CLOSED: "task.close"}.get(to, f"taskstatus.{to.value}")
        out.append(html.Button(t(label, lang), n_clicks=0,
                               className="move-button needs-reason" if step.needs_reason
                               else "move-button",
                               id={"type": "task-step", "task": task_id, "to": to.value,
                                   "sat": ""}))
    return out


def _time(ts: float) -> str:
    return datetime.fromtimestamp(float(ts), CST).strftime("%m-%d %H:%M:%S")
