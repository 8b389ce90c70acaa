"""The grid side panel: codes, names, parent chain, households and residents of one grid."""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t, tier_label


def grid_panel(info: dict, *, lang: Lang, synthetic: bool) -> list:
    """Panel body for ``GridSet.info`` output. All text goes in as text nodes, never HTML."""
    tier = info["tier"]
    rows = [
        _row(t("panel.code", lang), info["code"], cls="mono"),
        _row(t("panel.tier", lang), tier_label(tier, lang)),
        _row(t("panel.street", lang),
             info["street_name_en"] if lang == "en" and info["street_name_en"]
             else info["street_name"] or info["street_code"]),
        _row(t("panel.households", lang), f"{info['households']:,}"),
        _row(t("panel.residents", lang), f"{info['residents']:,}"),
        _row(t("panel.area", lang), f"{info['area_km2']:.3f} km²"),
    ]
    if tier in ("total", "general"):
        rows.append(_row(t(f"panel.children.{tier}", lang), f"{info['children']:,}"))
    body = [
        html.Div(tier_label(tier, lang), className="panel-kicker"),
        html.H2(info["name"], className="panel-title", id="panel-title"),
        html.Dl(rows, className="panel-rows"),
        html.H3(t("panel.chain", lang), className="panel-sub"),
        html.Ol([_chain_item(ref, lang) for ref in info["chain"]], className="panel-chain"),
    ]
    if synthetic:
        body.append(html.Div(t("synthetic", lang), className="panel-note"))
    return body


def _row(label: str, value: str, *, cls: str = "") -> html.Div:
    return html.Div([html.Dt(label), html.Dd(value, className=cls)], className="panel-row")


def _chain_item(ref: dict, lang: Lang) -> html.Li:
    return html.Li([
        html.Span(tier_label(ref["tier"], lang), className="chain-tier"),
        html.Span(ref["name"], className="chain-name"),
        html.Span(ref["code"], className="chain-code mono"),
    ])
