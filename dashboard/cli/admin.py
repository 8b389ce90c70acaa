"""``users`` and ``tokens``: who may sign in and which programs may call the APIs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from dashboard.cli.common import main, settings_from_env
from dispatch.access.credentials import Auth
from dispatch.access.policy import Permission, holders
from dispatch.access.roles import Role
from dispatch.access.scope import DISTRICT, Reach, Scope, ScopeError, parse_scope

#: Who may sign in to the pages, and who may hold a token, follow from the grant table.
PAGE_ROLES = [r.value for r in holders(Permission.PAGE_VIEW)]
TOKEN_ROLES = [r.value for r in Role if r not in (Role.RESIDENT, Role.SYSTEM)]
SCOPE_HELP = ("district (default), street:CODE[,CODE…] or grids:CODE[,CODE…]; an account "
              "never reaches further than its role's grants")


@contextmanager
def _runtime() -> Iterator:
    """The site's Redis and what lives in it, for one command; closed afterwards."""
    from dashboard.runtime import open_runtime

    runtime = open_runtime(settings_from_env(), warm=False, load_grids=False)
    try:
        yield runtime
    finally:
        runtime.close()


@contextmanager
def _auth() -> Iterator[Auth]:
    """The accounts and tokens of the site's Redis, for one command; closed afterwards."""
    with _runtime() as runtime:
        yield runtime.auth


@main.group()
def users() -> None:
    """People who sign in to the pages."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(PAGE_ROLES))
@click.option("--scope", "scope_text", default="district", help=SCOPE_HELP)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display", default="", help="Name shown on screens.")
def users_add(name: str, role: str, scope_text: str, password: str, display: str) -> None:
    """Create or replace a user (on REDIS_URL, else the data folder's embedded Redis)."""
    scope = _fitting(Role(role), _scope(scope_text))
    with _auth() as auth:
        try:
            auth.add_user(name, role=Role(role), password=password, display=display,
                          scope=scope)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
    click.echo(f"user {name} ({role}, {scope}) saved")


@users.command("list")
def users_list() -> None:
    """Every account: name, role, scope, whether it is disabled or a demo account (which
    signs in to `grid-dispatch demo` only)."""
    with _auth() as auth:
        found = auth.users()
    click.echo(f"{'name':<20}  {'role':<11}  {'scope':<24}  {'state':<8}  display")
    for u in found:
        state = "disabled" if u.get("disabled") else "demo" if u.get("demo") else "active"
        click.echo(f"{u['name']:<20}  {u['role']:<11}  {(u.get('scope') or 'district')[:24]:<24}"
                   f"  {state:<8}  {u.get('display', '')}")


@users.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Let a disabled account sign in again.")
def users_disable(name: str, enable: bool) -> None:
    """Stop an account signing in; its open sessions end at once."""
    _user_change(name, lambda auth: auth.disable(name, disabled=not enable),
                 "enabled" if enable else "disabled")


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Delete an account; its open sessions end at once."""
    _user_change(name, lambda auth: auth.remove(name), "removed")


@users.command("sign-out")
@click.argument("name")
def users_sign_out(name: str) -> None:
    """End every session the account holds now (it may sign in again)."""
    with _runtime() as runtime:
        ended = runtime.sessions.end_all(name)
        _audited(runtime, name, "signed out")
    click.echo(f"user {name}: {ended} session(s) ended")


def _user_change(name: str, change, done: str) -> None:
    from dispatch.access.credentials import UserNotFoundError

    with _runtime() as runtime:
        try:
            change(runtime.auth)
        except UserNotFoundError as exc:
            raise click.BadParameter(str(exc), param_hint="NAME") from exc
        if done != "enabled":
            runtime.sessions.end_all(name)
        _audited(runtime, name, done)
    click.echo(f"user {name} {done}")


def _audited(runtime, name: str, done: str) -> None:
    """Account changes go to the audit trail with the operating-system user who made them."""
    import getpass

    from dispatch.access.roles import Actor
    from dispatch.privacy.audit import AuditAction

    runtime.audit.record(AuditAction.ACCOUNT, actor=Actor(f"cli:{getpass.getuser()}",
                                                          Role.SYSTEM),
                         target=name, field="account", note=done)

@main.group()
def tokens() -> None:
    """Bearer tokens for APIs, devices and integrations."""


@tokens.command("create")
@click.option("--role", required=True, type=click.Choice(TOKEN_ROLES))
@click.option("--name", required=True, help="Who or what holds the token.")
@click.option("--scope", "scope_text", default="district", help=SCOPE_HELP)
@click.option("--device", default=None, metavar="ID",
              help="Required for --role device: the registered device whose alarms the token "
                   "may raise (and no other's). Not for other roles.")
@click.option("--expires-days", type=click.IntRange(min=0), default=365, show_default=True,
              help="Days until the token stops working; 0 for never.")
def tokens_create(role: str, name: str, scope_text: str, device: str | None,
                  expires_days: int) -> None:
    """Print a new token once; only its hash is stored."""
    from dispatch.access.credentials import TokenDeviceError, require_device

    scope = _fitting(Role(role), _scope(scope_text))
    with _auth() as auth:
        try:
            token = auth.create_token(
                name=name, role=Role(role), scope=scope, device=require_device(Role(role), device),
                expires_in_s=expires_days * 86400 if expires_days else None)
        except TokenDeviceError as exc:
            raise click.BadParameter(str(exc), param_hint="--device") from exc
    click.echo(token)


@tokens.command("list")
def tokens_list() -> None:
    """Every live token by id (never the token itself): holder, role, scope, expiry."""
    with _auth() as auth:
        infos = auth.tokens()
    click.echo(f"{'id':<12}  {'role':<11}  {'scope':<20}  {'device':<16}  {'created':<16}  "
               f"{'expires':<16}  name")
    for i in infos:
        click.echo(f"{i.id:<12}  {i.role:<11}  {i.scope[:20]:<20}  {i.device or '-':<16}  "
                   f"{_when(i.created_at):<16}  "
                   f"{_when(i.expires_at) if i.expires_at else 'never':<16}  {i.name}")


@tokens.command("revoke")
@click.argument("token_id")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id from `tokens list`: its calls fail within a second and its
    open websockets are closed."""
    from dispatch.access.credentials import TokenNotFoundError

    with _auth() as auth:
        try:
            info = auth.revoke(token_id, actor="command line")
        except TokenNotFoundError as exc:
            raise click.BadParameter(str(exc), param_hint="TOKEN_ID") from exc
    click.echo(f"token {info.id} ({info.role}, {info.name}) revoked")


def _when(ts: float) -> str:
    from dispatch.localtime import CST

    return datetime.fromtimestamp(ts, CST).strftime("%Y-%m-%d %H:%M")

def _fitting(role: Role, scope: Scope) -> Scope:
    from dispatch.access.policy import scope_problem

    if problem := scope_problem(role, scope):
        raise click.BadParameter(problem, param_hint="--scope")
    return scope


def _scope(text: str) -> Scope:
    """The scope, each code checked against the site's grids (a typo would lock someone out)."""
    try:
        scope = parse_scope(text)
    except ScopeError as exc:
        raise click.BadParameter(str(exc), param_hint="--scope") from exc
    if scope == DISTRICT:
        return scope
    from dashboard.runtime import grids_for

    grids = grids_for(settings_from_env())
    known = set(grids.street_codes) if scope.reach is Reach.STREET else grids
    unknown = sorted(c for c in scope.codes if c not in known)
    if unknown:
        what = "street" if scope.reach is Reach.STREET else "grid"
        raise click.BadParameter(f"unknown {what} code(s): {', '.join(unknown)}",
                                 param_hint="--scope")
    return scope


@main.group()
def access() -> None:
    """The access policy: which role may do what, and how far."""


@access.command("matrix")
def access_matrix() -> None:
    """Print the grant table as Markdown (a row per permission, a column per role)."""
    from dispatch.access.policy import matrix

    click.echo(matrix())
