"""Settings and tile presets: offline by default, complete when a site switches tiles on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard.components.tiles import tile_layers
from dashboard.settings import Settings, TilePreset


def test_defaults_are_offline_and_chinese(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = Settings()
    assert settings.tiles is TilePreset.NONE and tile_layers(settings) == []
    assert settings.redis_url is None and settings.language == "zh"


def test_redis_url_is_read_from_its_usual_name(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://example:6380/2")
    assert Settings().redis_url == "redis://example:6380/2"


def test_tianditu_needs_a_key():
    with pytest.raises(ValidationError, match="tianditu_key"):
        Settings(tiles="tianditu")
    layer = tile_layers(Settings(tiles="tianditu", tianditu_key="abc123"))[0]
    assert "tk=abc123" in layer.url


def test_local_tiles_need_a_folder_and_stay_on_this_host(tmp_path):
    with pytest.raises(ValidationError, match="tiles_url"):
        Settings(tiles="local")
    layer = tile_layers(Settings(tiles="local", tiles_url=str(tmp_path)))[0]
    assert layer.url.startswith("/tiles/")


def test_unknown_preset_is_named():
    with pytest.raises(ValidationError, match="tiles"):
        Settings(tiles="google")


def test_redis_url_can_be_passed_by_name(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert Settings(redis_url="redis://h:1/0").redis_url == "redis://h:1/0"


# --- what a site's settings change on the screens -------------------------------------------

def _runtime(redis_server, cache_dir, tmp_path, **settings):
    from dashboard.runtime import open_runtime

    return open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                 data_dir=tmp_path, **settings), warm=False)


def test_layer_urls_change_with_the_coordinate_system(redis_server, cache_dir, demo_grids,
                                                      tmp_path):
    from dashboard.api.geo import layer_url

    plain = _runtime(redis_server, cache_dir, tmp_path)
    amap = _runtime(redis_server, cache_dir, tmp_path, tiles="amap")
    try:
        assert plain.grids.digest == amap.grids.digest
        assert layer_url(plain, "micro") != layer_url(amap, "micro")
        assert plain.payloads["micro"].etag != amap.payloads["micro"].etag
    finally:
        plain.close()
        amap.close()


def test_tile_attribution_is_shown_whenever_tiles_are(redis_server, cache_dir, demo_grids,
                                                      tmp_path):
    from dashboard.pages.situation import _map

    for tiles, shown in (("none", False), ("osm", True), ("amap", True)):
        runtime = _runtime(redis_server, cache_dir, tmp_path, tiles=tiles)
        try:
            assert ("AttributionControl" in str(_map(runtime))) is shown, tiles
        finally:
            runtime.close()


@pytest.mark.parametrize(("language", "first"), [("en", "Sign in"), ("zh", "登录")])
def test_the_sign_in_page_speaks_the_screens_language(redis_server, cache_dir, demo_grids,
                                                      tmp_path, language, first):
    from dashboard.app import create_app

    runtime = _runtime(redis_server, cache_dir, tmp_path, language=language)
    try:
        page = create_app(runtime=runtime).server.test_client().get("/login").text
        assert f'<html lang="{language}">' in page
        assert f"<button type=\"submit\">{first}" in page
    finally:
        runtime.close()


def test_event_markers_move_with_the_grids_under_amap(redis_server, cache_dir, demo_grids,
                                                      tmp_path):
    import shapely

    from dashboard.live import LiveHub
    from geo.crs import CoordSystem, from_wgs84
    from geo.model import Tier

    micro = demo_grids.tier(Tier.MICRO).iloc[100]
    inside = micro.geometry.representative_point()
    shifted_grid = from_wgs84([micro.geometry], CoordSystem.GCJ02)[0]
    for tiles, moved in (("none", False), ("amap", True)):
        runtime = _runtime(redis_server, cache_dir, tmp_path, tiles=tiles)
        try:
            view = {"location": {"lon": inside.x, "lat": inside.y}}
            placed = LiveHub(socketio=None, runtime=runtime)._placed(view)["location"]
        finally:
            runtime.close()
        assert ("map" in placed) is moved
        if moved:
            marker = shapely.Point(placed["map"])
            assert shifted_grid.contains(marker), "the marker left its grid"
            assert marker.distance(inside) > 0.002  # a few hundred metres: really shifted
