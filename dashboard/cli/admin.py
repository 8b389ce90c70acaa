"""``users`` and ``tokens``: who may sign in and which programs may call the APIs."""

from __future__ import annotations

import click

from dashboard.cli.common import main, settings_from_env


def _auth():
    from dashboard.runtime import open_runtime

    runtime = open_runtime(settings_from_env(), warm=False, load_grids=False)
    return runtime


@main.group()
def users() -> None:
    """People who sign in to the pages."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["operator", "leader", "coordinator", "admin", "worker"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display", default="", help="Name shown on screens.")
def users_add(name: str, role: str, password: str, display: str) -> None:
    """Create or replace a user (on REDIS_URL, else the data folder's embedded Redis)."""
    from dispatch.access.roles import Role

    runtime = _auth()
    try:
        runtime.auth.add_user(name, role=Role(role), password=password, display=display)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    finally:
        runtime.close()
    click.echo(f"user {name} ({role}) saved")


@main.group()
def tokens() -> None:
    """Bearer tokens for APIs, devices and integrations."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(
    ["operator", "admin", "worker", "integration", "device", "leader"]))
@click.option("--name", required=True, help="Who or what holds the token.")
def tokens_create(role: str, name: str) -> None:
    """Print a new token once; only its hash is stored."""
    from dispatch.access.roles import Role

    runtime = _auth()
    try:
        click.echo(runtime.auth.create_token(name=name, role=Role(role)))
    finally:
        runtime.close()
