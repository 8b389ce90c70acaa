"""The big-screen header: centre name, counts per tier, district totals, clock, connection."""

from __future__ import annotations

from dash import html

from dashboard.i18n import Lang, t
from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor

#: The screens the header links to: path, text, and who may open it.
SCREENS = (("/", "nav.situation", Permission.PAGE_VIEW),
           ("/drills", "nav.drills", Permission.DRILL_READ))


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


def bilingual(key: str) -> dict[str, str]:
    """Both languages of a text as data attributes: ``assets/drill_banner.js`` swaps them when
    the screen's language changes, without a round trip to the server."""
    return {"data-zh": t(key, "zh"), "data-en": t(key, "en")}


def nav(actor: Actor | None, lang: Lang, *, current: str) -> html.Nav:
    """Links to the screens this actor may open (a leader sees the drill screen, a grid
    worker does not); the current one is marked."""
    return html.Nav(
        [html.A(t(key, lang), href=path, id=f"nav-{key.split('.')[1]}",
                className="nav-link active" if path == current else "nav-link", **bilingual(key))
         for path, key, permission in SCREENS if permits(actor, permission)],
        className="top-nav", id="top-nav",
    )
