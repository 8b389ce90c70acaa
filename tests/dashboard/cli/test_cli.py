"""The documented command-line contract."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

from click.testing import CliRunner

from dashboard.cli import main


def test_locate_prints_codes_or_outside(demo_grids):
    runner = CliRunner()
    inside = json.loads(runner.invoke(main, ["grids", "locate", "103.893", "30.806"]).output)
    assert inside["outside"] is False and inside["micro"].startswith("510117")
    outside = json.loads(runner.invoke(main, ["grids", "locate", "103.5", "30.8"]).output)
    assert outside["outside"] is True


def test_validate_and_import_the_demo_file(demo_grids, tmp_path):
    runner = CliRunner()
    source = demo_grids.source
    result = runner.invoke(main, ["grids", "validate", source])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["counts"] == {"total": 147, "general": 638, "micro": 5965}
    out = tmp_path / "canonical.gpkg"
    result = runner.invoke(main, ["grids", "import", source, "--out", str(out)])
    assert result.exit_code == 0 and out.exists()


def test_invalid_file_exits_1_with_one_line_per_problem_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "51011700100100", "name": "甲", "tier": "total",
                                           "parent_code": ""},
         "geometry": {"type": "Point", "coordinates": [103.9, 30.8]}}]}))
    out = tmp_path / "out.gpkg"
    result = CliRunner().invoke(main, ["grids", "import", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "not-polygon\t51011700100100" in result.output
    assert not out.exists()


def test_bad_field_mapping_is_named(tmp_path):
    result = CliRunner().invoke(main, ["grids", "validate", str(tmp_path / "x.geojson"),
                                       "--field", "code"])
    assert result.exit_code == 2 and "--field" in result.output


def test_unknown_canonical_field_is_named(demo_grids):
    result = CliRunner().invoke(main, ["grids", "validate", demo_grids.source,
                                       "--field", "colour=网格编码"])
    assert result.exit_code == 2 and "colour" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_command_answers_and_prints_url(redis_server, demo_grids, tmp_path):
    """`grid-dispatch demo` with no REDIS_URL: its own Redis, the data, a page, a clean stop."""
    port = _free_port()
    env = os.environ | {"GRID_DISPATCH_DATA_DIR": str(tmp_path / "data")}
    env.pop("REDIS_URL", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "demo", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "open:" in line:
                break
        assert f"http://127.0.0.1:{port}/" in lines[-1], "".join(lines)
        assert any("demo logins" in line for line in lines)
        assert "first run" not in lines[0], "the demo data was cached: no first-run notice"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as resp:
            assert resp.status == 200
        print(f"\ndemo answered after {time.monotonic() - started:.1f} s (data cached)")
    finally:
        proc.terminate()
        proc.wait(20)
