"""The drill screen (演练): a muster or a sweep on one big screen, live or replayed.

The coordinator plans and runs drills here; operators and leaders watch. The layout is drawn
once; the ``/drills`` feed then drives everything live through ``assets/drills*.js`` (clock,
figures, map colours, responders' markers), and the few server callbacks are the
coordinator's verbs, each asked of the access policy like the API's own routes.
"""

from __future__ import annotations

import json
from typing import Any

import dash
from dash import dcc, html
from dash_socketio import DashSocketIO
from flask import current_app

from dashboard.api.access import current_actor
from dashboard.components import drill_screen, header
from dashboard.components.drill_banner import watermark
from dashboard.components.drill_map import drill_map
from dashboard.i18n import Lang, t
from dashboard.pages import drills_actions
from dashboard.pages.callbacks import PageCallbacks
from dispatch.access.policy import AccessDenied, Permission, permits, require
from dispatch.access.roles import Actor
from dispatch.drills.models import (
    MOVES,
    RESPONDER_ORDER,
    DrillKind,
    DrillStatus,
    ResponderStatus,
)
from dispatch.store.drills import DrillNotFoundError
from geo.model import DISTRICT_CODE, street_names

PATH = "/drills"
callbacks = PageCallbacks()
drills_actions.install(callbacks)

#: Texts the page's script writes itself (statuses, units, buttons it draws in lists).
SCRIPT_TEXTS = (
    "drills.status.planned", "drills.status.running", "drills.status.paused",
    "drills.status.finished", "drills.status.aborted", "drills.kind.muster", "drills.kind.sweep",
    "drills.simulated", "drills.speed", "drills.left", "drills.overtime",
    "drills.steps.notified", "drills.steps.acknowledged", "drills.steps.en_route",
    "drills.steps.arrived", "drills.chart.actual", "drills.chart.target", "drills.chart.pass",
    "drills.chart.projected", "drills.chart.minutes", "drills.chart.muster",
    "drills.chart.sweep", "drills.missing.none", "drills.pending.none",
    "drills.pending.denied", "drills.more", "drills.override", "drills.call", "drills.reason",
    "drills.confirm", "drills.cancel", "drills.refused", "drills.ago", "drills.no_fix",
    "drills.stale", "drills.to_point", "drills.replay.at", "drills.minute", "drills.help",
    "drills.list.empty", "drills.legend.pending", "drills.legend.half",
    "drills.legend.done", "drills.legend.point",
)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def register(app: dash.Dash) -> None:
    """The drill screen at ``/drills`` (``?drill=ID`` picks one), with its callbacks."""
    dash.register_page("drills", path=PATH, layout=layout, title="演练")
    callbacks.register(app)


def layout(drill: str | None = None, **_query: Any) -> html.Div:
    """The screen for one drill; watchers get no controls and no form (the server would
    refuse them anyway), and a role that may not watch drills gets a line saying so."""
    runtime = _runtime()
    lang: Lang = runtime.settings.language
    actor = current_actor()
    if not permits(actor, Permission.DRILL_READ):
        return html.Div(t("drills.denied", lang), className="drills-denied", id="drills-denied")
    view, problem = _chosen(runtime, actor, drill)
    can_run = permits(actor, Permission.DRILL_RUN)
    return html.Div(
        [
            *_stores(view),
            _header(runtime, actor, lang, view),
            html.Main([
                drill_screen.left_column(lang, can_run=can_run,
                                         form=_form(runtime, lang) if can_run else None),
                html.Div(_centre(runtime, lang, view, problem), className="map-wrap drill-centre"),
                drill_screen.right_column(
                    lang, kind=view["kind"] if view else "",
                    report=f"/api/v1/drills/{view['id']}/report" if view else None),
            ], className="stage drill-stage"),
            watermark("drill-watermark", shown=True),
        ],
        className="app-shell drills-shell", id="drills-shell",
        **_data(runtime, actor, view),
    )


def _chosen(runtime, actor: Actor | None, wanted: str | None
            ) -> tuple[dict[str, Any] | None, str | None]:
    """The drill asked for; else the first live one; else the newest. With why none shows."""
    drills = runtime.drills
    try:
        if wanted:
            view = drills.view(str(wanted)[:60])
        else:
            view = next(iter(drills.live()), None) or next(iter(drills.recent(limit=1)), None)
    except DrillNotFoundError:
        return None, "drills.unknown"
    if view is None:
        return None, "drills.none"
    if len(view["scope"]) >= 9:
        try:
            require(actor, Permission.DRILL_READ, street=view["scope"][:9], grids=[view["scope"]])
        except AccessDenied:
            return None, "drills.denied"
    return view, None


def _stores(view: dict[str, Any] | None) -> list:
    """The feed (joined to the drill's own room), and what the script and callbacks share.
    ``lang``, ``clock-tick`` and the header's ``lang-toggle`` and ``clock`` keep the ids of the
    situation map, whose callbacks serve them here too: one language choice for every screen."""
    drill_id = view["id"] if view else ""
    options = {"auth": {"drill": drill_id}} if drill_id else {}
    return [
        dcc.Store(id="lang", storage_type="local"),
        dcc.Interval(id="clock-tick", interval=1000),
        dcc.Store(id="drill-id", data=drill_id),
        dcc.Store(id="drill-acted"),
        dcc.Store(id="drill-chart-series"),
        dcc.Store(id="drill-chart-base", data=chart_layout()),
        dcc.Location(id="drill-nav", refresh=True),
        DashSocketIO(id="drill-socket", url="/drills", options=options,
                     eventNames=["drills", "drill"]),
        *[dcc.Store(id=f"drill-applied-{k}") for k in
          ("summary", "delta", "acted", "lang", "replay", "play")],
    ]


def _header(runtime, actor: Actor | None, lang: Lang, view: dict[str, Any] | None) -> html.Header:
    settings = runtime.settings
    centre = settings.centre_name_en if lang == "en" else settings.centre_name
    return html.Header([
        html.Div([html.H1(centre, className="centre-name", **{
                      "data-zh": settings.centre_name, "data-en": settings.centre_name_en}),
                  html.Span(t("drill.watermark", lang), className="drill-tag")],
                 className="brand drill-brand"),
        header.nav(actor, lang, current=PATH),
        html.Div([
            html.H2(view["title"] if view else "", id="drill-title", className="drill-title"),
            html.Div([html.Span(id="drill-status", className="drill-status"),
                      html.Span(id="drill-meta", className="drill-meta")],
                     className="drill-subtitle"),
        ], className="drill-heading"),
        html.Div(header.status(lang), className="status"),
    ], className="top-bar drill-top")


def _centre(runtime, lang: Lang, view: dict[str, Any] | None, problem: str | None) -> list:
    parts = drill_map(runtime, view)
    parts.append(html.Div(id="drill-legend", className="drill-legend"))
    parts.append(drill_screen.text(html.Div, "drills.offline", lang, id="drill-live-banner",
                                   className="live-banner hidden", role="alert"))
    if problem:
        parts.append(drill_screen.text(html.Div, problem, lang, id="drill-empty",
                                       className="drill-empty"))
    over = view is not None and DrillStatus(view["status"]).over
    minutes = view["clock"]["elapsed_s"] / 60 if over and view else None
    parts.append(drill_screen.replay_bar(lang, minutes=minutes))
    return parts


def _form(runtime, lang: Lang) -> list:
    names = street_names()
    district = runtime.grids.summary()
    presets = [(DISTRICT_CODE, district["district_en" if lang == "en" else "district"])]
    presets += [(code, names.get(code, (code, code))[1 if lang == "en" else 0])
                for code in runtime.grids.street_codes]
    scenarios = drill_screen.scenario_labels(runtime.settings.drill_scenarios_file, lang)
    return drill_screen.plan_form(lang, presets=presets, scenarios=scenarios)


def _data(runtime, actor: Actor | None, view: dict[str, Any] | None) -> dict[str, str]:
    """What the page's script reads once: the drill, what the viewer may do, the texts and
    the drill vocabulary (statuses and moves come from the Python enums, not a JS copy)."""
    settings = runtime.settings
    texts = {key: [t(key, "zh"), t(key, "en")] for key in SCRIPT_TEXTS}
    return {
        "data-drill": view["id"] if view else "",
        "data-kind": view["kind"] if view else "",
        "data-view": json.dumps(view or {}, ensure_ascii=False),
        "data-can-run": "1" if permits(actor, Permission.DRILL_RUN) else "",
        "data-can-call": "1" if permits(actor, Permission.DRILL_PERSONAL) else "",
        "data-texts": json.dumps(texts, ensure_ascii=False),
        "data-drill-vocab": json.dumps(vocabulary()),
        "data-centre-zh": settings.centre_name, "data-centre-en": settings.centre_name_en,
        "data-default-lang": settings.language,
    }


def vocabulary() -> dict[str, Any]:
    """Drill statuses, the actions each allows, the responder steps in order, and the kind
    whose map is coloured per micro-grid."""
    return {
        "moves": {s.value: [a.value for (f, a) in MOVES if f is s] for s in DrillStatus},
        "live": [s.value for s in DrillStatus if s.live],
        "over": [s.value for s in DrillStatus if s.over],
        "planned": DrillStatus.PLANNED.value,
        "responder": sorted((s.value for s in ResponderStatus),
                            key=lambda v: RESPONDER_ORDER[ResponderStatus(v)]),
        "arrived": ResponderStatus.ARRIVED.value,
        "sweep": DrillKind.SWEEP.value,
    }


def chart_layout() -> dict[str, Any]:
    """The one Plotly template of the big screens: dark, transparent, one accent; sizes are
    for 1920 wide and the script scales them with the screen."""
    axis = {"gridcolor": "#163250", "zerolinecolor": "#1b3553", "linecolor": "#1b3553",
            "tickfont": {"size": 16, "color": "#8fa8c2"}, "fixedrange": True}
    return {
        "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif", "size": 16,
                 "color": "#e6f0fa"},
        "colorway": ["#38bdf8", "#ffb703", "#8fa8c2", "#22c55e"],
        "margin": {"l": 56, "r": 16, "t": 36, "b": 40},
        "xaxis": {**axis, "ticksuffix": "′"}, "yaxis": {**axis, "rangemode": "tozero"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom",
                   "font": {"size": 16, "color": "#8fa8c2"}, "bgcolor": "rgba(0,0,0,0)"},
        "showlegend": True, "hovermode": False,
    }
