"""The event panel: what happened, where, whose it is, the clock, the timeline, the next moves."""

from __future__ import annotations

from datetime import datetime

from dash import dcc, html

from dashboard.i18n import Lang, t
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor
from dispatch.events.models import ChangeKind, Status
from dispatch.events.workflow import TRANSITIONS
from dispatch.localtime import CST
from dispatch.privacy.audit import RevealReason

#: The seven steps as operators see them, for the progress strip.
STEPS = (Status.REPORTED, Status.REGISTERED, Status.DISPATCHED, Status.SIGNED,
         Status.IN_PROGRESS, Status.FEEDBACK, Status.VERIFIED, Status.CLOSED)


def status_label(status: str, lang: Lang) -> str:
    return t(f"status.{status}", lang)


def event_panel(view: dict, *, lang: Lang, actor: Actor, dispatch: html.Div | None = None
                ) -> list:
    """Panel body for ``EventService.get(..., timeline=True)``; all text as text nodes.
    ``dispatch``: the candidates or the open task, for those who dispatch."""
    cat = view["category"]
    return [
        html.Div([html.Span(t(f"severity.{view['severity']}", lang),
                            className=f"sev sev-{view['severity']}"),
                  html.Span(view["id"], className="mono event-id")], className="panel-kicker"),
        html.H2(cat["name_en"] if lang == "en" else cat["name"], className="panel-title"),
        _clock(view, lang),
        _steps(view["status"], lang),
        html.P(view["description"], className="event-description"),
        html.Dl(_rows(view, lang), className="panel-rows"),
        _reveal(view, lang, actor),
        dispatch or html.Div(),
        html.Div() if view.get("task") else _actions(view, lang, actor),
        html.H3(t("event.timeline", lang), className="panel-sub"),
        html.Ol([_change(c, lang) for c in view.get("timeline", [])], className="timeline"),
    ]


def _clock(view: dict, lang: Lang) -> html.Div:
    level = view["escalation"]["level"]
    cls = "event-clock overdue" if view["overdue"] else "event-clock"
    items = [html.Span(status_label(view["status"], lang), className="clock-status")]
    if view["due_at"]:
        items.append(html.Span("", className="countdown", **{"data-due": str(view["due_at"])}))
    if level:
        items.append(html.Span(f"{t('event.escalated', lang)} · "
                               f"{t('tier1.' + view['escalation']['tier'], lang)}",
                               className="escalated"))
    return html.Div(items, className=cls)


def _steps(status: str, lang: Lang) -> html.Ol:
    reached = STEPS.index(Status(status)) if Status(status) in STEPS else -1
    return html.Ol([
        html.Li(t(f"step.{s.value}", lang), title=status_label(s.value, lang),
                className="step done" if i < reached else "step now" if i == reached else "step")
        for i, s in enumerate(STEPS)
    ], className="steps")


def _rows(view: dict, lang: Lang) -> list:
    grid, loc = view["grid"], view["location"]
    rows = [
        (t("event.source", lang), t(f"source.{view['source']}", lang)),
        (t("panel.street", lang), grid["street_name"] or grid["street"]),
        (t("tier1.micro", lang), grid["micro"]),
        (t("event.address", lang), " ".join(x for x in (loc["address"], loc["building"]) if x)
         or f"{loc['lon']:.5f}, {loc['lat']:.5f}"),
        (t("event.reporter", lang), " ".join(x for x in (view["reporter"]["name"],
                                                         view["reporter"]["phone"]) if x) or "—"),
        (t("event.created", lang), _time(view["created_at"])),
    ]
    if view["count"] > 1:
        rows.append((t("event.count", lang), f"× {view['count']}"))
    if view["reason"]:
        rows.append((t("event.reason", lang), view["reason"]))
    return [html.Div([html.Dt(k), html.Dd(v)], className="panel-row") for k, v in rows]


def _reveal(view: dict, lang: Lang, actor: Actor) -> html.Div:
    """Show the reporter's full number, for a reason the audit keeps (operators only)."""
    if not view["reporter"]["phone"] or not permits(actor, Permission.PERSONAL_REVEAL):
        return html.Div()
    reasons = [{"label": t(f"reveal.reason.{r.value}", lang), "value": r.value}
               for r in RevealReason]
    return html.Div([
        dcc.RadioItems(id="reveal-reason", options=reasons, value=RevealReason.CALL_BACK.value,
                       className="reveal-reasons", inline=True),
        html.Button(t("reveal.button", lang), id={"type": "reveal", "event": view["id"]},
                    n_clicks=0, className="move-button reveal-button",
                    title=t("reveal.audited", lang)),
        html.Span(id="reveal-result", className="reveal-result mono", role="status"),
    ], className="event-reveal")


def _actions(view: dict, lang: Lang, actor: Actor) -> html.Div:
    moves = [(to, move) for (frm, to), move in TRANSITIONS.items()
             if frm.value == view["status"] and permits(actor, move.permission)
             and to is not Status.DISPATCHED]  # dispatching makes a task: the candidates
    if not moves:
        return html.Div()
    buttons = [html.Button(status_label(to.value, lang), n_clicks=0,
                           id={"type": "event-move", "to": to.value, "event": view["id"]},
                           className="move-button needs-reason" if move.needs_reason
                           else "move-button")
               for to, move in moves]
    return html.Div([
        html.Div(buttons, className="move-buttons"),
        dcc.Input(id="move-reason", placeholder=t("event.reason_hint", lang), maxLength=500,
                  className="move-reason", debounce=False),
        html.Div(id="move-result", className="move-result", role="status"),
    ], className="event-actions")


def _change(c: dict, lang: Lang) -> html.Li:
    kind = c.get("kind", "")
    if kind == ChangeKind.TRANSITION:
        what = f"{status_label(c.get('before', ''), lang)} → {status_label(c['after'], lang)}"
    elif kind == ChangeKind.ESCALATED:
        what = f"{t('event.escalated', lang)} → {t('tier1.' + c.get('tier', 'micro'), lang)}"
    elif kind == ChangeKind.TASK:
        what = (f"{t('event.task_step', lang)} {c.get('task', '')} · "
                f"{t('taskstatus.' + c['after'], lang)} · {c.get('worker', '')}")
    elif kind == ChangeKind.TASK_ESCALATED:
        what = (f"{t('event.task_step', lang)} {c.get('task', '')} · {t('task.escalated', lang)}"
                f" {t('tier1.' + c.get('tier', 'micro'), lang)} {c.get('notify', '')}")
    elif kind == ChangeKind.REPEATED:
        what = f"{t('event.repeated', lang)} × {c.get('count', '')}"
    else:
        what = f"{t('event.created_kind', lang)} · {status_label(c.get('after', ''), lang)}"
    items = [html.Span(_time(c["at"]), className="tl-time mono"),
             html.Span(what, className="tl-what"),
             html.Span(f"{c.get('actor', '')} ({t('role.' + c.get('role', 'system'), lang)})",
                       className="tl-who")]
    if c.get("reason"):
        items.append(html.Span(c["reason"], className="tl-reason"))
    return html.Li(items)


def _time(ts: float) -> str:
    """Beijing time, whatever zone the server runs in: it is what the operators read."""
    return datetime.fromtimestamp(float(ts), CST).strftime("%m-%d %H:%M:%S")
