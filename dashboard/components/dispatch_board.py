"""The dispatch furniture of the situation map: the task board, the workers layer, the alert
bar, the worker panel and the shortcut help. Their contents are drawn by
``assets/dispatch.js`` from the live feed; Dash only places the containers."""

from __future__ import annotations

import json

import dash_leaflet as dl
from dash import html

from dashboard.i18n import Lang, t
from dispatch.tasks.lifecycle import TaskStatus

#: The board's columns, in the order work moves through them: each holds the open task
#: statuses named (field work en route and on site together; the call-back's two steps).
COLUMNS = (("assigned", (TaskStatus.ASSIGNED,)), ("accepted", (TaskStatus.ACCEPTED,)),
           ("field", (TaskStatus.EN_ROUTE, TaskStatus.ON_SITE)),
           ("resolved", (TaskStatus.RESOLVED,)),
           ("callback", (TaskStatus.VERIFIED, TaskStatus.CALLED_BACK)))
SHORTCUTS = (("J / ↓", "keys.next"), ("K / ↑", "keys.prev"), ("Enter", "keys.assign"),
             ("A", "keys.ack"), ("/", "keys.search"), ("W", "keys.workers"),
             ("B", "keys.board"), ("Esc", "keys.close"), ("?", "keys.help"))


def board(lang: Lang) -> html.Section:
    labels = {s.value: [t(f"taskstatus.{s.value}", "zh"), t(f"taskstatus.{s.value}", "en")]
              for s in TaskStatus}
    return html.Section([
        html.Div([html.H2(t("board.title", lang), className="col-title"),
                  html.Span("", id="board-summary", className="board-summary")],
                 className="board-head"),
        html.Div([html.Div([html.H3([html.Span(t(f"board.{name}", lang)),
                                     html.Span("0", className="board-count")]),
                            html.Ol(className="board-list")],
                           className="board-col",
                           **{"data-status": " ".join(s.value for s in statuses)})
                  for name, statuses in COLUMNS], className="board-cols", id="board-cols"),
    ], id="task-board", className="task-board",
        **{"data-labels": json.dumps(labels, ensure_ascii=False)})


def workers_layer() -> dl.GeoJSON:
    fn = "gridDispatch.dispatch."
    return dl.GeoJSON(
        id="workers-layer", data={"type": "FeatureCollection", "features": []}, cluster=True,
        zoomToBoundsOnClick=True, superClusterOptions={"radius": 90, "maxZoom": 15},
        pointToLayer={"variable": fn + "pointToLayer"},
        clusterToLayer={"variable": fn + "clusterToLayer"},
        onEachFeature={"variable": fn + "onEachWorker"},
    )


def overlays(lang: Lang) -> list:
    help_rows = [html.Div([html.Kbd(k), html.Span(t(key, lang))], className="key-row")
                 for k, key in SHORTCUTS]
    return [
        html.Div([html.Span("", id="alert-text"),
                  html.Button(t("keys.ack", lang), id="alert-ack", className="alert-ack")],
                 id="alert-bar", className="alert-bar hidden", role="alert"),
        html.Div([html.H2(t("keys.title", lang)), *help_rows],
                 id="shortcut-help", className="shortcut-help hidden"),
    ]


def worker_panel() -> html.Aside:
    """One worker's panel; inside the map, like the grid and event panels."""
    return html.Aside([html.Button("×", className="panel-close", id="worker-panel-close"),
                       html.Div(id="worker-panel-body")],
                      id="worker-panel", className="grid-panel worker-panel hidden")
