"""The drill screen as each role gets it: who sees the controls, what it loads, its texts.

Pages are rendered the way the browser asks for them (Dash's page router callback, with a
bearer token for the role), on the session's Redis, with one small muster planned in it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from dashboard.components import drill_screen
from dashboard.i18n import _TEXT
from dashboard.pages import drills as page
from dispatch.access.roles import Actor, Role
from dispatch.drills.models import DrillIn, DrillKind, DrillStatus, ResponderStatus
from dispatch.drills.service import DrillService
from dispatch.workers.models import Worker, WorkerRole
from tests.dispatch.drills.world import POINT, NoHouseholds, Roster, locator
from tests.support import running_app

ROOT = Path(__file__).resolve().parents[3]
ASSETS = ROOT / "assets"
PAGE_ASSETS = ("drills.js", "drills_map.js", "drills_panels.js", "drills_replay.js",
               "drill_banner.js", "drills.css")
ROLES = (Role.COORDINATOR, Role.OPERATOR, Role.LEADER, Role.WORKER)
CONTROLS = [f"drill-{a}" for a in drill_screen.ACTIONS]
#: Ids the big-screen browser test reads; every watcher's page has them.
STABLE_IDS = ("drill-countdown", "drill-progress", "drill-progress-done", "drill-progress-total",
              "drill-progress-share", "drill-chart", "drill-people", "drill-map",
              "drill-replay", "drill-replay-slider", "drill-replay-state", "drill-list",
              "drill-watermark", "drill-title", "drill-status", "drill-report")


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory) -> Iterator[tuple]:
    with running_app(redis_server.url, cache_dir=cache_dir,
                     data_dir=tmp_path_factory.mktemp("data"), name="drills-page",
                     roles=ROLES) as (client, runtime, tokens):
        yield client, runtime, tokens, _plan_muster(runtime)


def _plan_muster(runtime) -> dict:
    """One responder in the micro-grid at the test point: a muster with one point."""
    micro = locator(runtime.grids).locate(*POINT).micro
    worker = Worker(id="PW1", name="页面队员", phone="10012345678", role=WorkerRole.GRID_WORKER,
                    grid=micro, home_lon=POINT[0], home_lat=POINT[1])
    service = DrillService(store=runtime.drill_store, grids=runtime.grids,
                           roster=Roster([worker]), households=NoHouseholds(),
                           clock=runtime.clock)
    spec = DrillIn(kind=DrillKind.MUSTER, scope=micro, title="页面测试演练", simulated=True)
    return service.plan(spec, actor=Actor(name="coord", role=Role.COORDINATOR))


def _render(client, token: str, search: str = "") -> dict:
    """The page's layout as Dash's router sends it to the browser."""
    client.get("/drills", headers=_bearer(token))  # the router registers on a first request
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"},
                        {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/drills"},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"], "state": []}
    resp = client.post("/_dash-update-component", json=body, headers=_bearer(token))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return resp.get_json()["response"]["_pages_content"]["children"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _walk(node) -> Iterator[dict]:
    """Every component in a layout's JSON."""
    if isinstance(node, dict):
        if "type" in node and "props" in node:
            yield node
            for value in node["props"].values():
                yield from _walk(value)
        else:
            for value in node.values():
                yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _ids(layout) -> set[str]:
    return {c["props"]["id"] for c in _walk(layout) if isinstance(c["props"].get("id"), str)}


def _shell(layout) -> dict:
    return next(c["props"] for c in _walk(layout) if c["props"].get("id") == "drills-shell")


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.OPERATOR, Role.LEADER],
                         ids=lambda r: r.value)
def test_the_page_renders_for_each_watcher_with_controls_only_for_the_coordinator(env, role):
    client, _, tokens, drill = env
    layout = _render(client, tokens[role], f"?drill={drill['id']}")
    ids = _ids(layout)
    assert set(STABLE_IDS) <= ids
    runs = role is Role.COORDINATOR
    assert all((c in ids) is runs for c in CONTROLS), sorted(ids & set(CONTROLS))
    assert ("drill-form" in ids) is runs and ("drill-form-submit" in ids) is runs
    shell = _shell(layout)
    assert shell["data-drill"] == drill["id"] and shell["data-kind"] == DrillKind.MUSTER.value
    assert shell["data-can-run"] == ("1" if runs else "")
    assert shell["data-can-call"] == ("" if role is Role.LEADER else "1")
    assert json.loads(shell["data-view"])["title"] == "页面测试演练"


def test_the_drill_screen_follows_the_chosen_drill(env):
    client, _, tokens, drill = env
    layout = _render(client, tokens[Role.LEADER], f"?drill={drill['id']}")
    props = {c["props"].get("id"): c["props"] for c in _walk(layout)}
    assert props["drill-title"]["children"] == "页面测试演练"
    assert props["drill-report"]["href"] == f"/api/v1/drills/{drill['id']}/report"
    socket = props["drill-socket"]
    assert socket["url"] == "/drills" and socket["options"] == {"auth": {"drill": drill["id"]}}
    assert props["drill-points"]["data"]["features"][0]["properties"]["name"] == \
        drill["points"][0]["name"]
    assert "hidden" in props["drill-replay"]["className"]  # only a finished drill replays


def test_an_unknown_drill_says_so_and_a_grid_worker_may_not_watch(env):
    client, _, tokens, _ = env
    layout = _render(client, tokens[Role.OPERATOR], "?drill=DR-no-such-drill")
    note = next(c["props"] for c in _walk(layout) if c["props"].get("id") == "drill-empty")
    assert note["children"] == _TEXT["drills.unknown"][0]
    denied = _render(client, tokens[Role.WORKER])
    assert _ids(denied) == {"drills-denied"}


def test_the_header_links_the_drill_screen_for_those_who_may_watch_drills(env):
    from dashboard.components.header import nav

    client, _, tokens, drill = env
    layout = _render(client, tokens[Role.LEADER], f"?drill={drill['id']}")
    assert {"nav-situation", "nav-drills"} <= _ids(layout)
    worker = Actor(name="w", role=Role.WORKER)
    assert [a.href for a in nav(worker, "zh", current="/").children] == ["/"]


def test_watchers_cannot_run_a_drill_through_the_page(env):
    client, _, tokens, drill = env
    body = {"output": "..drill-action-result.children...drill-acted.data..",
            "outputs": [{"id": "drill-action-result", "property": "children"},
                        {"id": "drill-acted", "property": "data"}],
            "inputs": [{"id": f"drill-{a}", "property": "n_clicks", "value": 1 if a == "start"
                        else 0} for a in drill_screen.ACTIONS if a not in drill_screen.CONFIRMED]
            + [{"id": f"drill-{a}-confirm", "property": "submit_n_clicks", "value": 0}
               for a in drill_screen.CONFIRMED],
            "state": [{"id": "drill-id", "property": "data", "value": drill["id"]},
                      {"id": "lang", "property": "data", "value": "zh"}],
            "changedPropIds": ["drill-start.n_clicks"]}
    for role in (Role.OPERATOR, Role.LEADER):
        resp = client.post("/_dash-update-component", json=body, headers=_bearer(tokens[role]))
        assert resp.status_code == 403, resp.get_data(as_text=True)[:200]
    _, runtime, _, _ = env
    assert runtime.drills.view(drill["id"])["status"] == DrillStatus.PLANNED.value


def test_everything_the_page_loads_comes_from_this_host(env):
    client, _, tokens, drill = env
    html = client.get(f"/drills?drill={drill['id']}", headers=_bearer(tokens[Role.LEADER]))
    assert html.status_code == 200
    text = html.get_data(as_text=True)
    loaded = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert any("drills.js" in u for u in loaded) and any("drills.css" in u for u in loaded)
    assert [u for u in loaded if urlparse(u).netloc] == []
    for name in PAGE_ASSETS:
        source = (ASSETS / name).read_text(encoding="utf-8")
        assert not re.search(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", source, re.I), name
    layout = json.dumps(_render(client, tokens[Role.LEADER], f"?drill={drill['id']}"))
    assert not re.search(r"https?://", layout)


def _script_keys() -> tuple[set[str], set[str]]:
    """Text keys the page's scripts ask for: literal ones, and the prefixes of built ones."""
    literal, prefixes = set(), set()
    for name in PAGE_ASSETS[:-2]:
        source = (ASSETS / name).read_text(encoding="utf-8")
        literal |= set(re.findall(r"""["'](drills\.[a-z_.]+[a-z_])["']""", source))
        prefixes |= set(re.findall(r"`(drills\.[a-z_]+\.)\$\{", source))
    return literal, prefixes


def test_every_text_exists_in_both_languages_and_reaches_the_script():
    ours = {k: v for k, v in _TEXT.items() if k.split(".")[0] in ("drills", "drill", "nav")}
    assert ours and all(zh.strip() and en.strip() for zh, en in ours.values())
    literal, prefixes = _script_keys()
    sent = set(page.SCRIPT_TEXTS)
    assert sent <= set(_TEXT) and literal and literal <= sent, literal - sent
    values = {"drills.status.": DrillStatus, "drills.kind.": DrillKind,
              "drills.steps.": ResponderStatus}
    for prefix in prefixes:
        expected = {prefix + v.value for v in values[prefix]} if prefix in values else \
            {k for k in sent if k.startswith(prefix)}
        assert expected and expected <= sent, prefix
