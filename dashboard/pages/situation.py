"""The situation map (态势图): the whole district's three-tier grid on one big screen."""

from __future__ import annotations

import json

import dash
import dash_leaflet as dl
import shapely
from dash import ALL, Input, Output, State, dcc, html
from dash_socketio import DashSocketIO
from flask import current_app

from dashboard.api.access import current_actor
from dashboard.api.geo import layer_url
from dashboard.components import dispatch_board, drill_banner, header, panel
from dashboard.components.event_panel import event_panel
from dashboard.components.events import event_panel_shell, events_column, events_layer
from dashboard.components.tiles import tile_layers
from dashboard.i18n import Lang, status_vocabulary, t
from dashboard.pages import dispatch
from dashboard.pages.callbacks import PageCallbacks, clicked
from dispatch.access.policy import Forbidden, Permission, require
from dispatch.events.models import Status
from dispatch.events.service import place
from dispatch.events.workflow import TransitionError
from dispatch.privacy.audit import RevealReason
from dispatch.privacy.disclosure import disclosure_for
from dispatch.store.events import EventNotFoundError
from geo.crs import from_wgs84
from geo.grids import UnknownGridError
from geo.model import street_names

#: Layer panes, bottom to top; each gets its own canvas, so draw order never depends on
#: which layer finished loading first.
PANES = {"micro": 410, "general": 420, "total": 430, "streets": 440}
MODES = ("auto", "total", "general", "micro")
callbacks = PageCallbacks()
dispatch.install(callbacks)
drill_banner.install(callbacks)


def _runtime():
    return current_app.extensions["grid_dispatch"]


def register(app: dash.Dash) -> None:
    """The operator's situation map at ``/``, with its callbacks, on this app."""
    dash.register_page("situation", path="/", layout=layout, title="态势图")
    callbacks.register(app)


def layout(**_query) -> html.Div:
    runtime = _runtime()
    settings = runtime.settings
    lang: Lang = settings.language
    summary = runtime.grids.summary()
    actor = current_actor()
    return html.Div(
        [
            dcc.Store(id="lang", storage_type="local"),
            dcc.Store(id="selected-grid"),
            dcc.Store(id="tier-mode-applied"),
            dcc.Interval(id="clock-tick", interval=1000),
            html.Header(
                [
                    html.Div(header.brand(settings.centre_name, summary, lang), className="brand",
                             id="brand"),
                    html.Div(header.header_figures(summary, lang), className="figures",
                             id="figures"),
                    header.nav(actor, lang, current="/"),
                    *drill_banner.header_parts(actor, lang),
                    html.Div(header.status(lang), className="status"),
                ],
                className="top-bar",
            ),
            DashSocketIO(id="live", url="/live", eventNames=["delta", "snapshot", "positions"]),
            *dispatch_board.overlays(lang),
            dcc.Store(id="selected-event"),
            dcc.Store(id="live-applied"),
            dcc.Store(id="positions-applied"),
            html.Main(
                [_left_column(summary, lang), _map(runtime), events_column(lang)],
                className="stage",
            ),
        ],
        className="app-shell",
        **{"data-centre-zh": settings.centre_name, "data-centre-en": settings.centre_name_en,
           "data-default-lang": settings.language,
           "data-vocab": json.dumps(status_vocabulary(), ensure_ascii=False)},
    )


def _left_column(summary: dict, lang: Lang) -> html.Aside:
    return html.Aside(
        [
            html.H2(t("layers", lang), className="col-title", id="layers-title"),
            html.Div(_mode_buttons(lang), className="tier-mode", id="tier-mode"),
            html.H2(t("streets", lang), className="col-title", id="streets-title"),
            html.Ul(id="street-list", className="street-list"),
            html.H2(t("legend", lang), className="col-title", id="legend-title"),
            html.Ul(_legend(lang), className="legend", id="legend"),
            html.Div(t("hint", lang), className="hint", id="hint"),
        ],
        className="left-col",
    )


def _legend(lang: Lang) -> list[html.Li]:
    return [
        html.Li([html.Span(className=f"swatch swatch-{key}"), html.Span(t(f"legend.{key}", lang))])
        for key in ("streets", "total", "general", "micro", "selected")
    ]


def _mode_buttons(lang: Lang) -> list[html.Button]:
    return [
        html.Button(t(f"mode.{m}", lang), id=f"mode-{m}", n_clicks=0,
                    className="mode-button active" if m == "auto" else "mode-button")
        for m in MODES
    ]


def _map(runtime) -> html.Div:
    counts = runtime.grids.summary()["counts"]
    extent = shapely.box(*runtime.grids.frame.total_bounds)
    minx, miny, maxx, maxy = from_wgs84([extent], runtime.display_coords)[0].bounds
    fn = "gridDispatch.map."
    bounds = [[miny, minx], [maxy, maxx]]
    layers = []
    for name, z in PANES.items():
        expected = counts.get(name, len(runtime.grids.street_codes))
        layers.append(dl.Pane(
            dl.GeoJSON(
                id=f"layer-{name}", url=layer_url(runtime, name), format="geobuf",
                style={"variable": fn + "style"}, onEachFeature={"variable": fn + "onEachFeature"},
                hideout={"tier": name, "expected": expected, "bounds": bounds},
                interactive=name != "streets", bubblingMouseEvents=False,
            ),
            name=name, style={"zIndex": z},
        ))
    layers.append(dl.Pane(dispatch_board.workers_layer(), name="workers", style={"zIndex": 450}))
    layers.append(dl.Pane(events_layer(), name="events", style={"zIndex": 460}))
    tiles = tile_layers(runtime.settings)
    # Tile licences (OpenStreetMap's among them) require their attribution on the map.
    credits = [dl.AttributionControl(prefix="", position="bottomright")] if tiles else []
    return html.Div([
        dl.Map(
            [*tiles, *layers, dl.ScaleControl(imperial=False), *credits],
            id="map", preferCanvas=True, center=[(miny + maxy) / 2, (minx + maxx) / 2], zoom=11,
            zoomSnap=0.25, zoomDelta=0.5, minZoom=9, maxZoom=19, attributionControl=False,
            style={"width": "100%", "height": "100%"},
        ),
        html.Div(t("banner.offline", runtime.settings.language), id="live-banner",
                 className="live-banner hidden", role="alert"),
        drill_banner.watermark(),
        _panel(),
        event_panel_shell(),
        dispatch_board.board(runtime.settings.language),
        dispatch_board.worker_panel(),
    ], className="map-wrap")


def _panel() -> html.Aside:
    return html.Aside(
        [
            html.Button("×", id="panel-close", className="panel-close", n_clicks=0,
                        title="close"),
            html.Div(id="panel-body"),
        ],
        id="grid-panel", className="grid-panel hidden",
    )


@callbacks.callback(
    Output("figures", "children"),
    Output("brand", "children"),
    *[Output(f"mode-{m}", "children") for m in MODES],
    Output("layers-title", "children"),
    Output("streets-title", "children"),
    Output("hint", "children"),
    Output("legend-title", "children"),
    Output("legend", "children"),
    Output("events-title", "children"),
    *[Output(f"count-label-{k}", "children") for k in ("open", "overdue", "urgent")],
    *[Output(f"filter-{f}", "children") for f in ("all", "overdue", "urgent")],
    Output("event-queue", "data-empty"),
    Output("street-list", "children"),
    Input("lang", "data"),
    permission=Permission.PAGE_VIEW,
)
def _render_texts(lang: str | None):
    runtime = _runtime()
    lang = _lang(lang, runtime)
    summary = runtime.grids.summary()
    centre = runtime.settings.centre_name_en if lang == "en" else runtime.settings.centre_name
    return (
        header.header_figures(summary, lang),
        header.brand(centre, summary, lang),
        *[t(f"mode.{m}", lang) for m in MODES],
        t("layers", lang),
        t("streets", lang),
        t("hint", lang),
        t("legend", lang),
        _legend(lang),
        t("events.title", lang),
        *[t(f"events.{k}", lang) for k in ("open", "overdue", "urgent")],
        *[t(f"filter.{f}", lang) for f in ("all", "overdue", "urgent")],
        t("events.empty", lang),
        _street_items(runtime, lang),
    )


def _street_items(runtime, lang: Lang) -> list:
    streets = runtime.grids.streets_frame().sort_values("residents", ascending=False)
    names = street_names()
    items = []
    for row in streets.itertuples():
        zh, en = names.get(row.street_code, (row.name, row.name))
        items.append(html.Li([
            html.Span(en if lang == "en" else zh, className="street-name"),
            html.Span(f"{row.residents:,}", className="street-value"),
        ], className="street-item"))
    return items


@callbacks.callback(
    Output("panel-body", "children"),
    Output("grid-panel", "className"),
    Input("selected-grid", "data"),
    Input("lang", "data"),
    permission=Permission.GRID_READ,
)
def _render_panel(selected: dict | None, lang: str | None):
    runtime = _runtime()
    lang = _lang(lang, runtime)
    if not isinstance(selected, dict) or not selected.get("code"):
        return [], "grid-panel hidden"
    try:
        info = runtime.grids.info(str(selected["code"]))
    except UnknownGridError:
        return [html.Div(t("panel.unknown", lang), className="panel-title")], "grid-panel"
    return panel.grid_panel(info, lang=lang, synthetic=runtime.grids.synthetic), "grid-panel"


def _lang(value: str | None, runtime) -> Lang:
    return value if value in ("zh", "en") else runtime.settings.language


callbacks.clientside(
    dash.ClientsideFunction("grid_ui", "toggleLang"),
    Output("lang", "data"),
    Input("lang-toggle", "n_clicks"),
    State("lang", "data"),
    prevent_initial_call=True,
)
callbacks.clientside(
    dash.ClientsideFunction("grid_ui", "clock"),
    Output("clock", "children"),
    Input("clock-tick", "n_intervals"),
)
callbacks.clientside(
    dash.ClientsideFunction("grid_map", "setMode"),
    Output("tier-mode-applied", "data"),
    *[Input(f"mode-{m}", "n_clicks") for m in MODES],
)
callbacks.clientside(
    dash.ClientsideFunction("grid_map", "clearSelection"),
    Output("selected-grid", "data"),
    Input("panel-close", "n_clicks"),
    prevent_initial_call=True,
)
callbacks.clientside(
    dash.ClientsideFunction("grid_ui", "applyLang"),
    Output("lang-toggle", "children"),
    Input("lang", "data"),
)


@callbacks.callback(
    Output("event-panel-body", "children"),
    Output("event-panel", "className"),
    Input("selected-event", "data"),
    Input("lang", "data"),
    Input("live-applied", "data"),
    permission=Permission.EVENT_READ,
)
def _render_event(selected: dict | None, lang: str | None, _applied):
    runtime = _runtime()
    lang = _lang(lang, runtime)
    if not isinstance(selected, dict) or not selected.get("id"):
        return [], "grid-panel event-panel hidden"
    actor = current_actor()
    try:
        view = runtime.events.get(
            str(selected["id"]), timeline=True, disclosure=disclosure_for(actor), actor=actor,
            check=lambda found: require(actor, Permission.EVENT_READ, **place(found),
                                        assignee=found["assignee"]))
    except (EventNotFoundError, Forbidden):
        missing = html.Div(t("panel.unknown", lang), className="panel-title")
        return [missing], "grid-panel event-panel"
    return (event_panel(view, lang=lang, actor=actor,
                        dispatch=dispatch.section(view, actor=actor, lang=lang)),
            "grid-panel event-panel")


@callbacks.callback(
    Output("reveal-result", "children"),
    Input({"type": "reveal", "event": ALL}, "n_clicks"),
    State("reveal-reason", "value"),
    prevent_initial_call=True,
    permission=Permission.PERSONAL_REVEAL,
)
def _reveal(clicks, reason):
    trigger = clicked(clicks)
    if trigger is None:
        return dash.no_update
    if reason not in {r.value for r in RevealReason} or not trigger.get("event"):
        return dash.no_update
    runtime, actor = _runtime(), current_actor()
    try:
        contact = runtime.events.reveal(
            str(trigger["event"]), actor=actor, reason=RevealReason(reason),
            check=lambda found: require(actor, Permission.PERSONAL_REVEAL, **place(found),
                                        assignee=found["assignee"]))
    except (EventNotFoundError, Forbidden):
        return dash.no_update
    return " ".join(x for x in (contact["name"], contact["phone"]) if x)


@callbacks.callback(
    Output("move-result", "children"),
    Input({"type": "event-move", "to": ALL, "event": ALL}, "n_clicks"),
    State("move-reason", "value"),
    State("lang", "data"),
    prevent_initial_call=True,
    permission=Permission.EVENT_MOVE,
)
def _move(clicks, reason, lang):
    trigger = clicked(clicks)
    if trigger is None:
        return dash.no_update
    if trigger.get("to") not in {s.value for s in Status} or not trigger.get("event"):
        return t("move.invalid", _lang(lang, _runtime()))
    runtime = _runtime()
    lang = _lang(lang, runtime)
    actor = current_actor()
    try:
        runtime.events.move(str(trigger["event"]), Status(trigger["to"]), actor=actor,
                            reason=reason if isinstance(reason, str) else "")
    except (TransitionError, EventNotFoundError) as exc:
        return str(exc)
    return t("move.done", lang)


callbacks.clientside(
    dash.ClientsideFunction("grid_live", "onMessage"),
    Output("live-applied", "data"),
    Input("live", "data-delta"),
    Input("live", "data-snapshot"),
    prevent_initial_call=True,
)
callbacks.clientside(
    dash.ClientsideFunction("grid_dispatch", "onPositions"),
    Output("positions-applied", "data"),
    Input("live", "data-positions"),
    prevent_initial_call=True,
)
callbacks.clientside(
    dash.ClientsideFunction("grid_live", "onConnected"),
    Output("live-banner", "className"),
    Input("live", "connected"),
)
callbacks.clientside(
    dash.ClientsideFunction("grid_live", "setFilter"),
    Output("event-queue", "className"),
    *[Input(f"filter-{f}", "n_clicks") for f in ("all", "overdue", "urgent")],
)
callbacks.clientside(
    dash.ClientsideFunction("grid_live", "closePanel"),
    Output("selected-event", "data"),
    Input("event-panel-close", "n_clicks"),
    prevent_initial_call=True,
)
