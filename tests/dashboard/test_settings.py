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
