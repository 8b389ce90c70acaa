"""The drill screen's callbacks: the coordinator's verbs, and the browser-side wiring.

Planning and the start / pause / resume / finish / abort buttons go through the drill
service with the same scope checks as the REST routes, so a button that reached a watcher's
page (it is never drawn there) is refused all the same. Every refusal comes back as a line
of text under the buttons, not as a failed request.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State
from flask import current_app
from pydantic import ValidationError

from dashboard.api.access import current_actor
from dashboard.components import drill_screen
from dashboard.i18n import Lang, t
from dashboard.pages.callbacks import PageCallbacks
from dispatch.access.policy import AccessDenied, Permission, require
from dispatch.access.roles import Actor
from dispatch.drills.models import DrillAction, DrillIn, DrillMoveError
from dispatch.drills.planning import ScopeError, TeamError
from dispatch.drills.scenarios import ScenarioError
from dispatch.store.drills import DrillNotFoundError, DrillStateError

P = Permission
_REFUSED = (DrillMoveError, DrillNotFoundError, DrillStateError, AccessDenied)
_BAD_PLAN = (ScopeError, TeamError, ScenarioError, AccessDenied)
ACTION_INPUTS = [Input(f"drill-{a}", "n_clicks") for a in drill_screen.ACTIONS
                 if a not in drill_screen.CONFIRMED]
CONFIRM_INPUTS = [Input(f"drill-{a}-confirm", "submit_n_clicks")
                  for a in drill_screen.CONFIRMED]


def _runtime():
    return current_app.extensions["grid_dispatch"]


def _lang(value: object) -> Lang:
    return value if value in ("zh", "en") else _runtime().settings.language  # type: ignore


def install(callbacks: PageCallbacks) -> None:
    _install_server(callbacks)
    _install_client(callbacks)


def _install_server(callbacks: PageCallbacks) -> None:
    callbacks.callback(
        Output("drill-form-result", "children"), Output("drill-nav", "href"),
        Input("drill-form-submit", "n_clicks"),
        State("drill-form-kind", "value"), State("drill-form-scope", "value"),
        State("drill-form-scenario", "value"), State("drill-form-minutes", "value"),
        State("drill-form-simulated", "value"), State("drill-form-speed", "value"),
        State("lang", "data"),
        prevent_initial_call=True, permission=P.DRILL_RUN,
    )(plan)
    callbacks.callback(
        Output("drill-action-result", "children"), Output("drill-acted", "data"),
        *ACTION_INPUTS, *CONFIRM_INPUTS,
        State("drill-id", "data"), State("lang", "data"),
        prevent_initial_call=True, permission=P.DRILL_RUN,
    )(act)
    callbacks.callback(
        Output("drill-form-kind", "options"), Output("drill-form-scenario", "options"),
        Output("drill-form-simulated", "options"), Output("drill-form-scope", "placeholder"),
        *[Output(f"drill-{a}-confirm", "message") for a in drill_screen.CONFIRMED],
        Input("lang", "data"),
        permission=P.DRILL_RUN,
    )(form_texts)


def plan(clicks: int | None, kind: str | None, scope: str | None, scenario: str | None,
         minutes: float | None, simulated: list[str] | None, speed: float | None,
         lang: str | None) -> tuple[Any, Any]:
    """Plan the drill the form describes; on success open its screen."""
    if not clicks:
        return dash.no_update, dash.no_update
    lang = _lang(lang)
    try:
        spec = DrillIn(kind=kind, scope=str(scope or "").strip(), scenario=scenario,
                       target_minutes=minutes, speed=speed,
                       simulated="simulated" in (simulated or []))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "form"
        return f"{t('drills.form.bad', lang)} {where}: {err['msg']}", dash.no_update
    actor = current_actor()
    try:
        _require_at(actor, P.DRILL_RUN, spec.scope)
        view = _runtime().drills.plan(spec, actor=actor)
    except _BAD_PLAN as exc:
        return str(exc), dash.no_update
    return f"{t('drills.form.planned', lang)} {view['id']}", f"/drills?drill={view['id']}"


def act(*args: Any) -> tuple[Any, Any]:
    """Start, pause, resume, finish or abort the shown drill, if its status allows it."""
    *_clicks, drill_id, lang = args
    action = _action(dash.ctx.triggered_id)
    if action is None or not isinstance(drill_id, str) or not drill_id:
        return dash.no_update, dash.no_update
    lang, runtime, actor = _lang(lang), _runtime(), current_actor()
    try:
        _require_at(actor, P.DRILL_RUN, runtime.drill_store.header(drill_id)["scope"])
        view = runtime.drills.act(drill_id, action, actor=actor)
    except _REFUSED as exc:
        return str(exc), dash.no_update
    return f"{t('drills.action.done', lang)}: {t(f'drills.action.{action.value}', lang)}", view


def _action(trigger: object) -> DrillAction | None:
    """The action a click or a confirmed dialog asks for (None for anything else)."""
    if not isinstance(trigger, str) or not trigger.startswith("drill-"):
        return None
    name = trigger.removeprefix("drill-").removesuffix("-confirm")
    try:
        return DrillAction(name)
    except ValueError:
        return None


def _require_at(actor: Actor | None, permission: Permission, scope: str) -> None:
    """The same check as the REST routes: a street-scoped account acts in its street only."""
    if len(scope) >= 9:
        require(actor, permission, street=scope[:9], grids=[scope])


def form_texts(lang: str | None) -> tuple:
    """The form's option labels and the confirmation questions in the screen's language."""
    lang = _lang(lang)
    scenarios = drill_screen.scenario_labels(_runtime().settings.drill_scenarios_file, lang)
    return (drill_screen.kind_options(lang), drill_screen.scenario_options(scenarios),
            drill_screen.simulated_options(lang), t("drills.form.scope_hint", lang),
            *[t(f"drills.confirm.{a}", lang) for a in drill_screen.CONFIRMED])


def _install_client(callbacks: PageCallbacks) -> None:
    """The feed and the page's own controls go straight to the script."""
    client = [
        ("onSummary", "drill-applied-summary", [Input("drill-socket", "data-drills")]),
        ("onDrill", "drill-applied-delta", [Input("drill-socket", "data-drill")]),
        ("onActed", "drill-applied-acted", [Input("drill-acted", "data")]),
        ("applyLang", "drill-applied-lang", [Input("lang", "data")]),
        ("replayTo", "drill-applied-replay", [Input("drill-replay-slider", "value")]),
        ("play", "drill-applied-play",
         [Input(f"drill-replay-play-{s}", "n_clicks") for s in drill_screen.REPLAY_SPEEDS]
         + [Input("drill-replay-stop", "n_clicks")]),
    ]
    for fn, output, inputs in client:
        callbacks.clientside(dash.ClientsideFunction("drills", fn), Output(output, "data"),
                             *inputs, prevent_initial_call=fn != "applyLang")
    callbacks.clientside(dash.ClientsideFunction("drills", "onConnected"),
                         Output("drill-live-banner", "className"),
                         Input("drill-socket", "connected"))
    callbacks.clientside(dash.ClientsideFunction("drills", "chart"),
                         Output("drill-chart", "figure"),
                         Input("drill-chart-series", "data"), State("drill-chart-base", "data"))
