"""Settings: every knob a site sets, read once by the CLI and handed to ``create_app``.

Nothing reads the environment at import time. Variables are prefixed ``GRID_DISPATCH_``,
except ``REDIS_URL``, which keeps the name every Redis tool knows.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dispatch.store.server import Fsync
from geo.catalog import default_cache_dir


class TilePreset(StrEnum):
    """Background tiles. ``none`` (the default) keeps the map fully offline."""

    NONE = "none"
    OSM = "osm"
    TIANDITU = "tianditu"
    AMAP = "amap"
    LOCAL = "local"


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "grid-dispatch"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GRID_DISPATCH_", extra="ignore",
                                      populate_by_name=True)

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "GRID_DISPATCH_REDIS_URL")
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    cache_dir: Path = Field(default_factory=default_cache_dir)
    grids_file: Path | None = None
    demo_seed: int = 20220921
    demo_events_per_minute: float = 12.0  # simulated reports per minute at the daily peak
    appendfsync: Fsync = Fsync.ALWAYS
    tiles: TilePreset = TilePreset.NONE
    tiles_url: str | None = None
    tianditu_key: str | None = None
    language: Literal["zh", "en"] = "zh"
    centre_name: str = "郫都区网格化智慧调度中心"
    centre_name_en: str = "Pidu Grid Dispatch Centre"
    trusted_proxies: int = 0  # reverse proxies in front that set X-Forwarded-For (rate limits)
    #: Where residents' phones reach the app (printed into QR codes), e.g. https://gd.example.cn
    public_url: str | None = None
    #: Send cookies only over HTTPS; unset: on when the public address is https://
    secure_cookies: bool | None = None
    host: str = "127.0.0.1"
    port: int = 8050
    secret_key: str = ""  # empty: one random key shared through Redis by every process
    #: The weights that rank who should handle an event (default: data/recommend.toml)
    recommend_file: Path | None = None
    #: Drill scenarios: points, roles, priorities, questions (default: data/drill_scenarios.toml)
    drill_scenarios_file: Path | None = None
    #: Seals personal data at rest: base64 keys, comma-separated, the first seals (rotation)
    data_key: SecretStr | None = None
    #: Where the data key is kept when not in the environment (default: data_dir/data.key)
    key_file: Path | None = None

    @property
    def data_key_file(self) -> Path:
        return self.key_file or self.data_dir / "data.key"

    @field_validator("public_url")
    @classmethod
    def _public_url_shape(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must look like https://host[:port][/path]")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _tiles_complete(self) -> Settings:
        if self.tiles is TilePreset.TIANDITU and not self.tianditu_key:
            raise ValueError("tiles=tianditu needs tianditu_key (GRID_DISPATCH_TIANDITU_KEY)")
        if self.tiles is TilePreset.LOCAL and not self.tiles_url:
            raise ValueError("tiles=local needs tiles_url: a folder holding {z}/{x}/{y}.png")
        return self
