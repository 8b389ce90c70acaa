"""The served OpenAPI document describes every HTTP endpoint the app serves."""

from __future__ import annotations

import re

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings

#: Routes that are not part of the HTTP API (Dash's own machinery, static files, sign-in, and
#: the catch-alls that answer unknown API and Open311 paths with 404 or 405).
INTERNAL = re.compile(r"^/(_dash|_reload|_favicon|assets/|login|logout|static/|<path:|"
                      r"api/<path:rest>$|open311/v2/<path:rest>$|$)")


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


def _refs(node, where="#"):
    """Every ``$ref`` in the document, with where it stands."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield where, value
            else:
                yield from _refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _refs(value, f"{where}/{i}")


def _resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), f"{ref} is not a reference inside the document"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref}: no {part!r}"
        node = node[part]
    return node


def test_every_reference_resolves(app):
    doc = app.test_client().get("/openapi.json").get_json()
    refs = list(_refs(doc))
    assert any(ref == "#/components/schemas/Severity" for _, ref in refs)
    unresolved = []
    for where, ref in refs:
        try:
            _resolve(doc, ref)
        except AssertionError as exc:
            unresolved.append(f"{where}: {exc}")
    assert unresolved == []
    assert "$defs" not in str(doc), "nested $defs are hoisted into components/schemas"


def test_every_operation_documents_the_gate_and_an_outage(app):
    doc = app.test_client().get("/openapi.json").get_json()
    for url, item in doc["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "503" in responses, f"{method.upper()} {url}"
            if url.startswith("/open311/"):
                assert "403" in responses, f"{method.upper()} {url}"
            elif not any(s == {} for s in operation["security"]):  # signed-in callers only
                assert {"401", "403"} <= responses.keys(), f"{method.upper()} {url}"


def test_stripped_text_patterns_match_what_the_models_accept():
    from pydantic import BaseModel, ConfigDict, Field, ValidationError

    from dashboard.api.openapi import trimmed

    class Text(BaseModel):
        model_config = ConfigDict(str_strip_whitespace=True)
        value: str = Field(min_length=1, max_length=5)

    pattern = re.compile(trimmed(5, min_length=1)["pattern"])
    for text in ["a", " a ", "abcde", "\u3000abcde\n", "", "   ", "abcdef", " a   b ",
                 "a\u0085", "\x1c", "a" * 4 + " " * 9]:
        try:
            Text(value=text)
            accepted = True
        except ValidationError:
            accepted = False
        assert bool(pattern.search(text)) == accepted, repr(text)


def test_allow_names_only_what_the_resource_answers(app):
    from dispatch.access.roles import Role

    token = app.extensions["grid_dispatch"].auth.create_token(name="allow", role=Role.ADMIN)
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert client.options("/api/v1/events/batch").headers["Allow"] == "POST, OPTIONS"
    resp = client.open("/api/v1/grids", method="TRACE")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    resp = client.post("/open311/v2/discovery.json")
    assert resp.status_code == 405 and resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert resp.get_json()[0]["code"] == 405
