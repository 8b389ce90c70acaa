"""``grid-dispatch households import`` and ``summary``: figures as JSON, problems named."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from dispatch.store import Store
from dispatch.store.households import HouseholdStore
from dispatch.store.server import EmbeddedRedis
from geo.model import Tier

HEADER = "micro,building,address,head,phone,members,tags"


@pytest.fixture
def env(tmp_path):
    with EmbeddedRedis(tmp_path / "redis") as server:
        yield {"REDIS_URL": server.url, "GRID_DISPATCH_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def stored(env):
    store = Store.from_url(env["REDIS_URL"])
    yield HouseholdStore.of(store)
    store.close()


def _file(tmp_path, rows: list[str]):
    path = tmp_path / "households.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_summary_before_a_load_is_the_demo_base(env):
    result = CliRunner().invoke(main, ["households", "summary"], env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["source"] == "demo base (not loaded)"
    assert (out["households"], out["micro_grids"]) == (642_571, 5965)
    assert 0 < out["by_tag"]["elderly_alone"] < out["priority_households"]


def test_a_file_loads_and_the_summary_then_describes_it(env, stored, tmp_path, demo_grids):
    m1, m2 = demo_grids.tier(Tier.MICRO)["code"].iloc[:2]
    rows = [f"{m1},1,1栋1单元101,张三,10012345678,2,独居老人",
            f"{m1},2,2栋1单元101,李四,,3,",
            f"{m2},1,1栋1单元101,王五,,1,disabled;low_income"]
    dry = CliRunner().invoke(main, ["households", "import", str(_file(tmp_path, rows)),
                                    "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.stdout)["loaded"] is False and stored.count() == 0
    result = CliRunner().invoke(main, ["households", "import", str(_file(tmp_path, rows))],
                                env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert (out["loaded"], out["households"], out["buildings"], out["priority_households"]) == (
        True, 3, 3, 2)
    summary = json.loads(CliRunner().invoke(main, ["households", "summary"], env=env).stdout)
    assert summary == {**{k: v for k, v in out.items() if k != "loaded"}, "source": "stored"}


def test_a_file_with_problems_names_them_all_and_loads_nothing(env, stored, tmp_path,
                                                             demo_grids):
    m1 = demo_grids.tier(Tier.MICRO)["code"].iloc[0]
    good = CliRunner().invoke(main, ["households", "import", str(_file(
        tmp_path, [f"{m1},1,1栋1单元101,张三,,2,"]))], env=env)
    assert good.exit_code == 0, good.output
    rows = [f"{m1},1,1栋1单元102,李四,123,2,", f"{m1},1,1栋1单元103,王五,,2,flying"]
    result = CliRunner().invoke(main, ["households", "import", str(_file(tmp_path, rows))],
                                env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "line 2, phone: must be 11 digits starting with 1, or empty (got '123')")
    assert result.stderr.splitlines()[1].startswith("line 3, tags: unknown tag;")
    assert result.stderr.splitlines()[-1] == "2 problem(s); nothing loaded"
    assert stored.counts() == {m1: 1}
