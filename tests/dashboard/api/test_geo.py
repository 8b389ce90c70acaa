"""HTTP endpoints on the real app (Flask test client, real Redis)."""

from __future__ import annotations

import gzip

import pytest

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from geo.payload import decode


@pytest.fixture(scope="module")
def client(redis_server, cache_dir, demo_grids, tmp_path_factory, operator_login):
    settings = Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                        data_dir=tmp_path_factory.mktemp("data"))
    runtime = open_runtime(settings)
    app = create_app(runtime=runtime)
    client = app.server.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = operator_login[0]
    yield client
    runtime.close()


def _layer(client, name: str) -> str:
    return client.get("/api/v1/grids").get_json()["layers"][name]


def test_layer_is_gzipped_cached_and_revalidated(client):
    url = _layer(client, "micro")
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["Content-Encoding"] == "gzip"
    assert "immutable" in first.headers["Cache-Control"]
    assert len(decode(gzip.decompress(first.data))) == 5965
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and len(decode(plain.data)) == 5965


@pytest.mark.parametrize("name", ["total", "general", "streets"])
def test_other_layers_are_served(client, name):
    assert client.get(_layer(client, name)).status_code == 200


def test_unknown_layer_or_stale_digest_is_404(client):
    assert client.get(_layer(client, "micro").replace("micro", "nope")).status_code == 404
    assert client.get("/geo/0000000000000000/micro.pbf").status_code == 404


def test_locate_inside_and_outside(client):
    inside = client.get("/api/v1/grids/locate?lon=103.893&lat=30.806").get_json()
    assert inside["outside"] is False and len(inside["micro"]) == 17
    outside = client.get("/api/v1/grids/locate?lon=103.5&lat=30.8").get_json()
    assert outside == {"lon": 103.5, "lat": 30.8, "outside": True}


@pytest.mark.parametrize("query, field", [
    ("lat=30.8", "lon"), ("lon=abc&lat=30.8", "lon"), ("lon=103.9&lat=95", "lat"),
    ("lon=nan&lat=30.8", "lon"),
])
def test_locate_names_the_bad_field(client, query, field):
    resp = client.get(f"/api/v1/grids/locate?{query}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["field"] == field and field in body["message"]


def test_grid_details_and_unknown_code(client):
    info = client.get("/api/v1/grids/51011700100100").get_json()
    assert info["tier"] == "total" and info["children"] > 0
    assert info["chain"][0]["code"] == info["code"]
    missing = client.get("/api/v1/grids/999")
    assert missing.status_code == 404 and missing.get_json()["field"] == "code"


def test_health_reports_redis(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["redis"] is True


def test_page_shell_uses_only_local_assets(client):
    html = client.get("/").get_data(as_text=True)
    assert "<script" in html
    for marker in ("http://", "https://"):
        srcs = [part for part in html.split('src="')[1:] if part.startswith(marker)]
        assert srcs == []
