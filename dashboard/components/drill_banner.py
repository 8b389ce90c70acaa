"""The drill banner and watermark other screens show while a drill is live.

While any drill runs, the operator's and the leader's screens must say so at a glance, so an
exercise is never taken for the real thing: a compact banner in the header ("演练 DRILL ·
title · mm:ss · 85 %", linking to the drill screen) and a large diagonal watermark over the
map. Both start hidden and are filled by ``assets/drill_banner.js`` from the ``/drills``
feed's summary, which every screen allowed to read drills hears once a second.
"""

from __future__ import annotations

import dash
from dash import Input, Output, dcc, html
from dash_socketio import DashSocketIO

from dashboard.i18n import Lang, t
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor

WATERMARK_COPIES = 6


def header_parts(actor: Actor | None, lang: Lang) -> list:
    """The banner and its feed, for an actor who may watch drills; nothing otherwise."""
    if not permits(actor, Permission.DRILL_READ):
        return []
    return [banner(lang),
            DashSocketIO(id="drill-feed", url="/drills", eventNames=["drills"]),
            dcc.Store(id="drill-feed-applied")]


def banner(lang: Lang) -> html.A:
    """Hidden until a drill is live; the script sets the title, clock, share and link."""
    return html.A(
        [
            html.Span(t("drill.watermark", lang), className="drill-banner-tag"),
            html.Span(className="drill-banner-title", id="drill-banner-title"),
            html.Span("--:--", className="drill-banner-clock mono", id="drill-banner-clock"),
            html.Span(className="drill-banner-share mono", id="drill-banner-share"),
            html.Span(className="drill-banner-more", id="drill-banner-more"),
        ],
        id="drill-banner", href="/drills", className="drill-banner hidden",
        title=t("drill.banner.hint", lang), **{"data-title-zh": t("drill.banner.hint", "zh"),
                                                "data-title-en": t("drill.banner.hint", "en")},
    )


def watermark(ident: str = "drill-watermark", *, shown: bool = False) -> html.Div:
    """Diagonal "演练 DRILL" over what it covers; it never takes a click."""
    text = t("drill.watermark", "zh")
    return html.Div(
        [html.Span(text, className="drill-watermark-text") for _ in range(WATERMARK_COPIES)],
        id=ident, className="drill-watermark" + ("" if shown else " hidden"),
        **{"aria-hidden": "true"},
    )


def install(callbacks) -> None:
    """The banner's one callback: each summary from the feed goes to the script."""
    callbacks.clientside(
        dash.ClientsideFunction("drill_banner", "onDrills"),
        Output("drill-feed-applied", "data"),
        Input("drill-feed", "data-drills"),
        prevent_initial_call=True,
    )
