"""The drill screen's columns: drills and controls on the left, clock and figures on the right,
the replay bar over the map.

Everything here is drawn once per page load. Live figures are filled in by the page's script
(``assets/drills*.js``) into these elements by id; texts carry both languages (``bilingual``)
so a language switch needs no round trip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dash import dcc, html

from dashboard.components.header import bilingual
from dashboard.i18n import Lang, t
from dispatch.drills.models import DrillAction, DrillKind, ResponderStatus
from dispatch.drills.scenarios import load_scenarios

ACTIONS = tuple(a.value for a in DrillAction)
CONFIRMED = (DrillAction.FINISH.value, DrillAction.ABORT.value)
SPEEDS = (1, 10, 60)
REPLAY_SPEEDS = (1, 10, 60)


def text(tag: Any, key: str, lang: Lang, **kwargs: Any) -> Any:
    """A Dash element showing ``key`` in ``lang``, ready to switch language in the page."""
    return tag(t(key, lang), **bilingual(key), **kwargs)


# --- left column ------------------------------------------------------------------------------
def left_column(lang: Lang, *, can_run: bool, form: list | None) -> html.Aside:
    parts: list = [
        text(html.H2, "drills.list", lang, className="col-title"),
        html.Ul(id="drill-list", className="drill-list",
                **{"data-empty-zh": t("drills.list.empty", "zh"),
                   "data-empty-en": t("drills.list.empty", "en")}),
    ]
    if can_run:
        parts += [text(html.H2, "drills.controls", lang, className="col-title"),
                  controls(lang),
                  text(html.H2, "drills.plan", lang, className="col-title"),
                  *(form or [])]
    return html.Aside(parts, className="left-col drill-left", id="drill-left")


def controls(lang: Lang) -> html.Div:
    """Start, pause, resume, finish, abort; the script enables those the status allows."""
    buttons = []
    for action in ACTIONS:
        button = text(html.Button, f"drills.action.{action}", lang, id=f"drill-{action}",
                      n_clicks=0, disabled=True,
                      className=f"drill-action drill-action-{action}")
        if action in CONFIRMED:
            button = dcc.ConfirmDialogProvider(button, id=f"drill-{action}-confirm",
                                               message=t(f"drills.confirm.{action}", lang))
        buttons.append(button)
    return html.Div([html.Div(buttons, className="drill-actions", id="drill-controls"),
                     html.Div(id="drill-action-result", className="drill-result",
                              role="status")])


def plan_form(lang: Lang, *, presets: list[tuple[str, str]],
              scenarios: list[tuple[str, str]]) -> list:
    """The coordinator's form: kind, scope (code, with presets), scenario, target, simulation."""
    def row(key: str, field: Any) -> html.Div:
        return html.Div([text(html.Span, key, lang, className="form-label"), field],
                        className="form-row")

    default_scope = presets[1][0] if len(presets) > 1 else presets[0][0]
    return [html.Div([
        row("drills.form.kind", dcc.RadioItems(
            id="drill-form-kind", options=kind_options(lang), value=DrillKind.MUSTER.value,
            inline=True, className="drill-chips")),
        row("drills.form.scope", html.Div([
            dcc.Input(id="drill-form-scope", type="text", value=default_scope, maxLength=17,
                      list="drill-scope-presets", className="drill-input mono",
                      placeholder=t("drills.form.scope_hint", lang)),
            html.Datalist(preset_options(presets), id="drill-scope-presets"),
        ])),
        row("drills.form.scenario", dcc.RadioItems(
            id="drill-form-scenario", options=scenario_options(scenarios),
            value=scenarios[0][0] if scenarios else None, inline=True, className="drill-chips")),
        row("drills.form.speed", dcc.RadioItems(
            id="drill-form-speed", options=[{"label": f"×{s}", "value": s} for s in SPEEDS],
            value=SPEEDS[0], inline=True, className="drill-chips")),
        html.Div([
            row("drills.form.minutes", dcc.Input(
                id="drill-form-minutes", type="number", min=1, max=240, step=1, value=15,
                className="drill-input drill-input-short mono")),
            dcc.Checklist(id="drill-form-simulated", options=simulated_options(lang), value=[],
                          className="drill-check"),
        ], className="form-pair"),
        text(html.Button, "drills.form.submit", lang, id="drill-form-submit", n_clicks=0,
             className="drill-submit"),
        html.Div(id="drill-form-result", className="drill-result", role="status"),
    ], className="drill-form", id="drill-form")]


def kind_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": t(f"drills.kind.{k.value}", lang), "value": k.value} for k in DrillKind]


def scenario_labels(path: Path | None, lang: Lang) -> list[tuple[str, str]]:
    """(name, label) of every scenario the site's file defines, in the screen's language."""
    found = load_scenarios(path) if path else load_scenarios()
    return [(name, sc.label_en if lang == "en" else sc.label) for name, sc in found.items()]


def scenario_options(scenarios: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"label": label, "value": name} for name, label in scenarios]


def simulated_options(lang: Lang) -> list[dict[str, str]]:
    return [{"label": t("drills.form.simulated", lang), "value": "simulated"}]


def preset_options(presets: list[tuple[str, str]]) -> list[html.Option]:
    return [html.Option(value=code, label=f"{name} · {code}") for code, name in presets]


# --- right column -----------------------------------------------------------------------------
def right_column(lang: Lang, *, kind: str, report: str | None) -> html.Aside:
    muster = kind == DrillKind.MUSTER.value
    progress_key = "drills.progress.muster" if muster else "drills.progress.sweep"
    people_key = "drills.missing" if muster else "drills.pending"
    parts = [
        html.Section([
            text(html.Div, "drills.countdown", lang, className="figure-kicker"),
            html.Div("--:--", id="drill-countdown", className="drill-countdown mono"),
            html.Div(id="drill-countdown-note", className="drill-countdown-note"),
        ], className="drill-block drill-clock"),
        html.Section([
            text(html.Div, progress_key, lang, className="figure-kicker",
                 id="drill-progress-label"),
            html.Div([html.Span("0", id="drill-progress-done", className="progress-done"),
                      html.Span(" / ", className="progress-sep"),
                      html.Span("0", id="drill-progress-total", className="progress-total"),
                      html.Span(" · ", className="progress-sep"),
                      html.Span("0.0 %", id="drill-progress-share", className="progress-share")],
                     id="drill-progress", className="drill-progress"),
            html.Div([html.Div(id="drill-progress-bar", className="progress-fill"),
                      html.Div(id="drill-progress-pass", className="progress-pass")],
                     className="progress-track"),
            steps(lang) if muster else html.Div(id="drill-help", className="drill-help"),
        ], className="drill-block"),
        html.Div(dcc.Graph(id="drill-chart", config={"displayModeBar": False,
                                                     "responsive": True},
                           style={"height": "100%"}), className="drill-chart-wrap"),
        html.Section([
            text(html.H3, people_key, lang, className="col-title", id="drill-people-title"),
            html.Ul(id="drill-people", className="drill-people"),
            html.Div(id="drill-people-note", className="drill-people-note"),
        ], className="drill-block drill-people-block"),
    ]
    if report:
        parts.append(html.A(t("drills.report", lang), href=report, id="drill-report",
                            className="drill-report", download="", **bilingual("drills.report")))
    return html.Aside(parts, className="drill-right", id="drill-right")


def steps(lang: Lang) -> html.Ul:
    """A muster's responders per step: notified, acknowledged, en route, arrived."""
    return html.Ul([
        html.Li([html.Span("0", id=f"drill-step-{s.value}", className="step-count mono"),
                 text(html.Span, f"drills.steps.{s.value}", lang, className="step-label")],
                className=f"drill-step step-{s.value}")
        for s in ResponderStatus
    ], id="drill-steps", className="drill-steps")


# --- replay -----------------------------------------------------------------------------------
def replay_bar(lang: Lang, *, minutes: float | None) -> html.Div:
    """For a finished drill: a slider over its minutes and play at ×1, ×10, ×60."""
    top = max(1, int(minutes + 0.999)) if minutes else 1
    step = max(1, top // 8)
    return html.Div([
        text(html.Span, "drills.replay", lang, className="replay-title"),
        html.Div([html.Button(f"▶ ×{s}", id=f"drill-replay-play-{s}", n_clicks=0,
                              className="replay-button") for s in REPLAY_SPEEDS]
                 + [text(html.Button, "drills.replay.stop", lang, id="drill-replay-stop",
                         n_clicks=0, className="replay-button")], className="replay-buttons"),
        html.Div(dcc.Slider(id="drill-replay-slider", min=0, max=top, step=1 / 60, value=top,
                            marks={m: f"{m}′" for m in range(0, top + 1, step)},
                            updatemode="drag", allow_direct_input=False),
                 className="replay-slider"),
        html.Div(id="drill-replay-state", className="replay-state mono", role="status"),
    ], id="drill-replay", className="drill-replay" + ("" if minutes else " hidden"))
