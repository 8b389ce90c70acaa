"""The served OpenAPI document describes every HTTP endpoint the app serves."""

from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings

#: Routes that are not part of the HTTP API (Dash's own machinery, static files, sign-in, and
#: the catch-all that answers unknown API paths with 404 or 405).
INTERNAL = re.compile(r"^/(_dash|_reload|_favicon|assets/|login|logout|static/|<path:|"
                      r"api/<path:rest>$|$)")


@pytest.fixture(scope="module")
def app(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")))
    yield create_app(runtime=runtime).server
    runtime.close()


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_is_documented(app):
    doc = app.test_client().get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if INTERNAL.match(path) or path.startswith("/socket.io"):
            continue
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        documented = doc["paths"].get(_openapi_path(path), {})
        missing += [f"{m.upper()} {path}" for m in methods if m not in documented]
    assert missing == [], f"routes without an OpenAPI entry: {missing}"


def test_event_schema_comes_from_the_model(app):
    schema = app.test_client().get("/openapi.json").get_json()["components"]["schemas"]
    assert schema["EventIn"]["properties"]["category"]["pattern"] == r"^\d{5}$"
    assert "description" in schema["EventIn"]["required"]
