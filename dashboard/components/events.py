"""The live events column, the events map layer and the event panel's frame.

The queue's rows are drawn by ``assets/live.js`` from the live feed (so they update in place
without a server round trip); Dash never re-renders the list container.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from dashboard.i18n import Lang, t

FILTERS = ("all", "overdue", "urgent")


def events_column(lang: Lang) -> html.Aside:
    return html.Aside(
        [
            html.H2(t("events.title", lang), className="col-title", id="events-title"),
            html.Div([_count("open", lang), _count("overdue", lang), _count("urgent", lang)],
                     className="event-counts"),
            html.Div([html.Button(t(f"filter.{f}", lang), id=f"filter-{f}", n_clicks=0,
                                  className="filter-button active" if f == "all"
                                  else "filter-button", **{"data-filter": f})
                      for f in FILTERS], className="event-filters"),
            html.Div(dcc.Input(id="event-search", type="search", maxLength=60,
                                placeholder=t("search.placeholder", lang),
                                className="event-search"), className="event-search-wrap"),
            html.Ol(id="event-queue", className="event-queue",
                    **{"data-empty": t("events.empty", lang)}),
        ],
        className="events-col",
    )


def _count(key: str, lang: Lang) -> html.Div:
    return html.Div([html.Span("0", className="count-value", id=f"count-{key}"),
                     html.Span(t(f"events.{key}", lang), className="count-label",
                               id=f"count-label-{key}")],
                    className=f"event-count count-{key}")


def events_layer() -> dl.GeoJSON:
    fn = "gridDispatch.live."
    return dl.GeoJSON(
        id="events-layer", data={"type": "FeatureCollection", "features": []}, cluster=True,
        zoomToBoundsOnClick=True, superClusterOptions={"radius": 48, "maxZoom": 16},
        pointToLayer={"variable": fn + "pointToLayer"},
        clusterToLayer={"variable": fn + "clusterToLayer"},
        onEachFeature={"variable": fn + "onEachEvent"},
    )


def event_panel_shell() -> html.Aside:
    return html.Aside(
        [
            html.Button("×", id="event-panel-close", className="panel-close", n_clicks=0,
                        title="close"),
            html.Div(id="event-panel-body"),
        ],
        id="event-panel", className="grid-panel event-panel hidden",
    )
