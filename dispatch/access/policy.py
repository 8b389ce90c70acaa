"""The one access policy: what each role may do, and over how much of the district.

Every HTTP route, every Dash callback that reads or writes and every Socket.IO handler asks
:func:`require` with a :class:`Permission`; nothing else decides. A grant gives a role a
permission up to a reach (the whole district, the actor's streets, or the actor's grids); the
actor's own scope, kept with their account or token, can only narrow it. Whoever is not signed
in holds the anonymous grants and nothing more: there is no default role.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

from dispatch.access.roles import Actor, Role
from dispatch.access.scope import DISTRICT, Reach, Scope


class Permission(StrEnum):
    PUBLIC = "public"  # sign-in page, static files, health, the API document
    PAGE_VIEW = "page.view"  # the operator screens
    GRID_READ = "grid.read"  # grid lookups and map layers
    EVENT_READ = "event.read"
    EVENT_REPORT = "event.report"
    EVENT_MOVE = "event.move"  # ask for a move at all; each move needs one of the three below
    EVENT_HANDLE = "event.handle"  # field work: report up, sign, start, feed back, return
    EVENT_MANAGE = "event.manage"  # register, dispatch, verify, close, reopen, cancel
    EVENT_ARCHIVE = "event.archive"
    LIVE_READ = "live.read"  # the /live websocket and its HTTP catch-up
    HOTLINE_IMPORT = "hotline.import"
    DEVICE_REGISTER = "device.register"
    DEVICE_READ = "device.read"
    ALARM_RAISE = "alarm.raise"
    OPEN311_READ = "open311.read"  # public by the GeoReport v2 specification
    OPEN311_POST = "open311.post"
    RESIDENT_REPORT = "resident.report"  # the QR form
    TOKENS_MANAGE = "tokens.manage"  # list, create and revoke API tokens
    PERSONAL_READ = "personal.read"  # whole text and addresses; reporters' contacts masked
    PERSONAL_REVEAL = "personal.reveal"  # a reporter's phone in full, with a reason, audited
    WISH_CLAIM = "wish.claim"  # a party member takes a published wish (接单)
    POSITION_REPORT = "position.report"  # a worker's phone says where it is
    DRILL_READ = "drill.read"  # watch drills: clock, progress, map, report, replay
    DRILL_RUN = "drill.run"  # plan, start, pause, resume, finish, abort; overrides; slots
    DRILL_RESPOND = "drill.respond"  # a responder's steps and sweep reports
    #: who is missing or not yet reached, masked; a phone in full with a reason, audited
    DRILL_PERSONAL = "drill.personal"


R, P = Role, Permission
_D, _G = Reach.DISTRICT, Reach.GRIDS
_STAFF = (R.OPERATOR, R.ADMIN)
_FIELD = (*_STAFF, R.WORKER)
_WATCH = (*_FIELD, R.LEADER, R.COORDINATOR)

#: Anonymous callers (no session, no token) hold exactly these.
ANONYMOUS: Mapping[Permission, Reach] = {P.PUBLIC: _D, P.OPEN311_READ: _D,
                                         P.RESIDENT_REPORT: _D}


def _grants() -> dict[Role, dict[Permission, Reach]]:
    given: dict[Permission, tuple[Role, ...]] = {
        P.PAGE_VIEW: _WATCH,
        P.GRID_READ: (*_WATCH, R.INTEGRATION),
        P.EVENT_READ: (*_WATCH, R.INTEGRATION),
        P.EVENT_REPORT: (*_FIELD, R.INTEGRATION),
        P.EVENT_MOVE: _FIELD,
        P.EVENT_HANDLE: _FIELD,
        P.EVENT_MANAGE: _STAFF,
        P.EVENT_ARCHIVE: (*_STAFF, R.SYSTEM),
        # per street or district: a grid worker's own room comes with the worker page
        P.LIVE_READ: (*_STAFF, R.LEADER, R.COORDINATOR, R.INTEGRATION),
        P.HOTLINE_IMPORT: (*_STAFF, R.INTEGRATION, R.SYSTEM),
        P.DEVICE_REGISTER: _STAFF,
        P.DEVICE_READ: (*_STAFF, R.LEADER, R.COORDINATOR, R.INTEGRATION),
        P.ALARM_RAISE: (R.DEVICE, R.INTEGRATION),
        P.OPEN311_POST: (*_FIELD, R.INTEGRATION),
        P.TOKENS_MANAGE: (R.ADMIN,),
        P.PERSONAL_READ: _FIELD,
        P.PERSONAL_REVEAL: (R.OPERATOR,),
        P.WISH_CLAIM: (R.WORKER,),
        P.POSITION_REPORT: (R.WORKER, R.INTEGRATION),
        P.DRILL_READ: (*_STAFF, R.LEADER, R.COORDINATOR, R.INTEGRATION),
        P.DRILL_RUN: (R.COORDINATOR, R.ADMIN),
        P.DRILL_RESPOND: (R.WORKER, R.INTEGRATION),
        P.DRILL_PERSONAL: (R.COORDINATOR, R.OPERATOR),
    }
    table: dict[Role, dict[Permission, Reach]] = {role: dict(ANONYMOUS) for role in Role}
    for permission, roles in given.items():
        for role in roles:
            table[role][permission] = _D
    # A grid worker works their own grids (and what is assigned to them): nothing wider.
    for permission in (P.EVENT_READ, P.EVENT_MOVE, P.EVENT_HANDLE, P.PERSONAL_READ,
                       P.WISH_CLAIM, P.DRILL_RESPOND):
        table[R.WORKER][permission] = _G
    return table


#: The grant table: role → permission → the widest reach it is held at.
GRANTS: Mapping[Role, Mapping[Permission, Reach]] = _grants()


class AccessDenied(PermissionError):
    """Base of the two refusals; carries the permission that was asked for."""

    def __init__(self, message: str, *, permission: Permission) -> None:
        super().__init__(message)
        self.permission = permission


class Unauthenticated(AccessDenied):
    """Nobody is signed in, and the permission is not one anonymous callers hold."""


class Forbidden(AccessDenied):
    """The actor is known, but their role or scope does not reach this."""

    def __init__(self, message: str, *, permission: Permission, actor: Actor) -> None:
        super().__init__(message, permission=permission)
        self.actor = actor


def grant(role: Role | None, permission: Permission) -> Reach | None:
    """The reach at which a role (``None``: anonymous) holds a permission, if at all."""
    return (ANONYMOUS if role is None else GRANTS[role]).get(permission)


def holders(permission: Permission) -> list[Role]:
    return [role for role in Role if permission in GRANTS[role]]


def require(actor: Actor | None, permission: Permission, *,
            street: str | None = None, grids: Iterable[str] = (),
            assignee: str = "") -> Scope:
    """The scope in which ``actor`` may exercise ``permission``, or a refusal saying why.

    With a place (``street`` and its ``grids``), the place must lie inside that scope, unless
    the work there is assigned to the actor by name.
    """
    reach = grant(actor.role if actor else None, permission)
    if actor is None:
        if reach is None:
            raise Unauthenticated(f"sign in or send a token: {permission.value!r} is not "
                                  "open to anonymous callers", permission=permission)
        return DISTRICT
    if reach is None:
        raise Forbidden(f"role {actor.role.value!r} may not {permission.value!r} (held by: "
                        f"{[r.value for r in holders(permission)]})",
                        permission=permission, actor=actor)
    scope = actor.scope.within(reach)
    if street is not None and not scope.admits(street=street, grids=grids) \
            and not (assignee and assignee == actor.name):
        raise Forbidden(f"outside your scope ({scope}): {permission.value!r} at street "
                        f"{street!r}", permission=permission, actor=actor)
    return scope


def scope_problem(role: Role, scope: Scope) -> str | None:
    """Why an account of ``role`` held to ``scope`` would read no event at all, if it would:
    a scope wider than the role's reach over events is cut to nothing, not to the reach."""
    reach = grant(role, P.EVENT_READ)
    if reach is None or scope.reach <= reach:
        return None
    example = "grids:CODE[,CODE…]" if reach is Reach.GRIDS else "street:CODE[,CODE…]"
    return f"a {role.value} reads events in its {reach.label} only: give a scope {example}"


def permits(actor: Actor | None, permission: Permission) -> bool:
    """Whether ``require`` would let the actor through (for showing or hiding controls)."""
    return grant(actor.role if actor else None, permission) is not None


def matrix() -> str:
    """The grant table as Markdown: a row per permission, a column per role and anonymous."""
    roles = list(Role)
    head = ["permission", "anonymous", *(r.value for r in roles)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for permission in Permission:
        cells = [_cell(grant(None, permission))] + [_cell(grant(r, permission)) for r in roles]
        rows.append(f"| `{permission.value}` | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _cell(reach: Reach | None) -> str:
    return reach.label if reach is not None else "·"
