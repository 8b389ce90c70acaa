"""The big-screen header: centre name, counts per tier, district totals, clock, connection."""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t


def figure(label: str, value: int, *, key: str) -> html.Div:
    return html.Div(
        [html.Span(label, className="figure-label"),
         html.Span(f"{value:,}", className="figure-value")],
        className="figure", id=f"fig-{key}",
    )


def header_figures(summary: dict, lang: Lang) -> list:
    counts = summary["counts"]
    return [
        figure(t("tier.total", lang), counts["total"], key="total"),
        figure(t("tier.general", lang), counts["general"], key="general"),
        figure(t("tier.micro", lang), counts["micro"], key="micro"),
        figure(t("households", lang), summary["households"], key="households"),
        figure(t("residents", lang), summary["residents"], key="residents"),
    ]


def brand(centre: str, summary: dict, lang: Lang) -> list:
    items = [html.H1(centre, className="centre-name")]
    if summary["synthetic"]:
        items.append(html.Span(t("synthetic", lang), className="synthetic-badge", id="synthetic"))
    return items


def status(lang: Lang) -> list:
    return [
        html.Span("--:--:--", id="clock", className="clock"),
        html.Span(
            [html.Span(className="conn-dot"), html.Span(t("online", lang), className="conn-text")],
            id="conn", className="conn conn-ok",
        ),
        html.Button(t("lang.switch", lang), id="lang-toggle", className="lang-toggle", n_clicks=0),
    ]
