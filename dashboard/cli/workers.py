"""``workers``: the grid-worker roster (the synthetic demo roster until a site imports its own)."""

from __future__ import annotations

import json
from datetime import datetime

import click

from dashboard.cli.common import main, settings_from_env


@main.group()
def workers() -> None:
    """The grid-worker roster: leaders, roles, shifts."""


@workers.command()
@click.option("--at", "at", default=None, metavar="ISO",
              help="Moment for the duty counts, e.g. 2024-05-15T12:00 (naive = Chengdu time; "
                   "default now).")
def summary(at: str | None) -> None:
    """Print the roster's figures as JSON: workers, roles, leaders per tier, duty, unled grids.

    The roster stored in the site's Redis (``workers import``, or the demo's); before one is
    loaded, the synthetic demo roster for the site's grids, and ``source`` says which.
    """
    from dashboard.runtime import open_runtime
    from dispatch.workers.roster import LOCAL_TZ, demo_roster
    from dispatch.workers.roster import summary as roster_summary

    try:
        when = datetime.fromisoformat(at) if at else datetime.now(LOCAL_TZ)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from exc
    settings = settings_from_env()
    runtime = open_runtime(settings, warm=False)
    try:
        roster, source = runtime.workers.all(), "stored"
        if not roster:
            roster = demo_roster(settings.cache_dir, runtime.grids, seed=settings.demo_seed)
            source = "demo roster (not loaded)"
        figures = roster_summary(roster, runtime.grids, at=when)
    finally:
        runtime.close()
    click.echo(json.dumps({"source": source, **figures}, ensure_ascii=False))


@workers.command("link")
@click.argument("worker_id")
@click.option("--base-url", default=None, metavar="URL",
              help="Address the phone opens (default: GRID_DISPATCH_PUBLIC_URL, else the "
                   "server's host and port).")
@click.option("--ttl", "ttl_min", type=click.IntRange(1, 24 * 60), default=15,
              show_default=True, metavar="MIN", help="Minutes the link stays valid.")
def link(worker_id: str, base_url: str | None, ttl_min: int) -> None:
    """Print a one-time sign-in link to the worker page for a worker on the roster.

    Makes the worker's account when missing (named by the worker id, role worker, held to
    the worker's micro, general and total grid); the link signs in once, within MIN minutes.
    """
    from dashboard.runtime import open_runtime
    from dispatch.store.links import LinkStore

    settings = settings_from_env()
    base = (base_url or settings.public_url or f"http://{settings.host}:{settings.port}")
    if not base.startswith(("http://", "https://")):
        raise click.BadParameter(f"{base!r} is not an http(s) address", param_hint="--base-url")
    runtime = open_runtime(settings, warm=False)
    try:
        worker = runtime.workers.get(worker_id)
        if worker is None:
            raise click.BadParameter(f"{worker_id!r} is not on the roster", param_hint="WORKER_ID")
        made = _worker_account(runtime, worker)
        token = LinkStore.of(runtime.store).issue(worker.id, ttl_s=ttl_min * 60)
        _audit_link(runtime, worker.id, f"sign-in link issued ({ttl_min} min)")
    finally:
        runtime.close()
    if made:
        click.echo(f"account {worker.id} ({made}) created", err=True)
    click.echo(f"{base.rstrip('/')}/m/link/{token}")
    click.echo(f"valid once, for {ttl_min} minute(s)", err=True)


def _worker_account(runtime, worker) -> str:
    """Make the worker's account when missing; "" when it is there. An account of the same
    name with another role is refused: a link must never open a wider account."""
    import secrets

    from dispatch.access.roles import Role
    from dispatch.access.scope import Reach, Scope

    found = next((u for u in runtime.auth.users() if u["name"] == worker.id), None)
    if found is not None:
        if found.get("role") != Role.WORKER.value:
            raise click.BadParameter(f"account {worker.id!r} exists with role "
                                     f"{found.get('role')!r}, not worker", param_hint="WORKER_ID")
        return ""
    from geo.grids import UnknownGridError

    try:
        codes = frozenset(ref.code for ref in runtime.grids.chain(worker.grid))
    except UnknownGridError as exc:
        raise click.BadParameter(f"{worker.id}'s grid is not in the site's grids: {exc}",
                                 param_hint="WORKER_ID") from exc
    scope = Scope(Reach.GRIDS, codes)
    runtime.auth.add_user(worker.id, role=Role.WORKER, password=secrets.token_urlsafe(24),
                          display=worker.name, scope=scope)
    _audit_link(runtime, worker.id, "worker account created for a sign-in link")
    return f"worker, {scope}"


def _audit_link(runtime, account: str, note: str) -> None:
    import getpass

    from dispatch.access.roles import Actor, Role
    from dispatch.privacy.audit import AuditAction

    runtime.audit.record(AuditAction.ACCOUNT, actor=Actor(f"cli:{getpass.getuser()}",
                                                          Role.SYSTEM),
                         target=account, field="account", note=note)
