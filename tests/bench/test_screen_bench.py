"""The screen benchmark on small numbers: its JSON is complete and nothing went missing
(figures are not checked)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from tests.conftest import _chromium, _unavailable

TAIL = {"p50", "p99", "max"}
SPREAD = {"p50", "min", "max"}


@pytest.mark.browser
def test_bench_screen_runs_end_to_end(demo_grids, cache_dir, monkeypatch):
    if not _chromium():
        _unavailable("Chromium not found: apt-get install -y chromium chromium-driver "
                     "fonts-noto-cjk")
    monkeypatch.setenv("GRID_DISPATCH_CACHE_DIR", str(cache_dir))
    result = CliRunner().invoke(main, ["bench", "screen", "--loads", "2", "--events", "3"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)

    drawn = figures["map_drawn_ms"]
    assert drawn["cold_first_load"] > 0 and drawn["cold_layer_bytes_transferred"] > 0
    assert drawn["returning"].keys() >= SPREAD and drawn["returning"]["loads"] == 2
    assert drawn["returning"]["layer_bytes_transferred_max"] == 0  # the cache was kept
    counts = demo_grids.summary()["counts"]
    assert drawn["features"] == {t: counts[t] for t in ("total", "general", "micro")}

    layers = figures["layers_fetch_ms"]
    assert layers["layers"] == ["total.pbf", "general.pbf", "micro.pbf"]
    assert layers["bytes_read"] > 0
    assert layers["network"].keys() >= SPREAD and layers["cached"].keys() >= SPREAD

    for name in ("event_on_screen_ms", "event_at_socket_client_ms"):
        events = figures[name]
        assert events.keys() >= TAIL and events["p50"] is not None, name
        assert (events["events"], events["missing"]) == (3, 0), name
    assert figures["chromium"] and figures["viewport"] == "1920x1080"


def test_bench_screen_without_chromium_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    result = CliRunner().invoke(main, ["bench", "screen"])
    assert result.exit_code == 1
    assert "apt-get install -y chromium chromium-driver" in result.output
    assert len(result.output.strip().splitlines()) == 1
