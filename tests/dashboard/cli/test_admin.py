"""`tokens` and `users` at the command line: a device token names its registered device, and
demo accounts are shown as such."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.credentials import Auth
from dispatch.access.roles import Actor, Role

DEVICE = "CLI-SMOKE-1"


@pytest.fixture(scope="module")
def runtime(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    runtime.devices.register({"device_id": DEVICE, "type": "smoke", "lon": 103.893,
                              "lat": 30.806}, actor=Actor("cli-test", Role.OPERATOR))
    yield runtime
    runtime.close()


@pytest.fixture
def cli(runtime, redis_server, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def _names(runtime) -> set[str]:
    return {i.name for i in runtime.auth.tokens()}


@pytest.mark.parametrize("args, named", [
    (["--role", "device"], "device is required for a device token"),
    (["--role", "device", "--device", "CLI-GHOST"], "device 'CLI-GHOST' is not registered"),
    (["--role", "integration", "--device", DEVICE], "device is for device tokens only"),
])
def test_a_device_token_needs_its_registered_device_and_only_it_names_one(cli, runtime, args,
                                                                           named):
    result = cli("tokens", "create", "--name", "cli-refused", *args)
    assert result.exit_code == 2, result.output
    assert "--device" in result.output and named in result.output
    assert "cli-refused" not in _names(runtime)


def test_a_device_token_is_bound_to_its_device_and_listed_with_it(cli, runtime):
    made = cli("tokens", "create", "--role", "device", "--name", "cli-bound",
               "--device", DEVICE)
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert Auth(runtime.store.auth).from_token(token).device == DEVICE
    listed = cli("tokens", "list").output.splitlines()
    assert listed[0].split()[:4] == ["id", "role", "scope", "device"]
    line = next(x for x in listed if x.endswith("cli-bound"))
    assert line.split()[1:4] == ["device", "district", DEVICE]
    integration = cli("tokens", "create", "--role", "integration", "--name", "cli-platform")
    assert integration.exit_code == 0
    line = next(x for x in cli("tokens", "list").output.splitlines()
                if x.endswith("cli-platform"))
    assert line.split()[3] == "-"


def test_users_list_shows_demo_accounts(cli, runtime):
    runtime.auth.add_user("cli-demo-user", role=Role.LEADER, password="public-pw", demo=True)
    runtime.auth.add_user("cli-real-user", role=Role.LEADER, password="private-pw")
    lines = cli("users", "list").output.splitlines()
    assert next(x for x in lines if x.startswith("cli-demo-user")).split()[3] == "demo"
    assert next(x for x in lines if x.startswith("cli-real-user")).split()[3] == "active"
