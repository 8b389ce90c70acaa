"""Who is asking: users with passwords (pages), bearer tokens (APIs, devices, integrations)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.access.roles import Actor, Role
from dispatch.access.scope import DISTRICT, Scope, parse_scope
from dispatch.store import StoreError
from dispatch.store.auth import AuthStore

TOKEN_CACHE_S = 1.0  # how soon a revocation reaches every process's HTTP answers

class AuthError(PermissionError):
    """A wrong password, or a token that is unknown or revoked."""


#: What every refused password says, whatever the reason, so it names no account.
WRONG_PASSWORD = "wrong user name or password"


@dataclass(frozen=True, slots=True)
class DeviceActor(Actor):
    """A device token's holder: it speaks for ``device`` alone, so a token taken from one
    device cannot raise alarms for the others ("" for a token bound to no device)."""

    device: str = ""


class TokenDeviceError(ValueError):
    """A new token's ``device`` does not fit: missing from a device token, given for another
    role, or naming no registered device. Carries the value given."""

    def __init__(self, device: str, problem: str) -> None:
        super().__init__(problem)
        self.device = device


def require_device(role: Role, device: str | None) -> str:
    """The device a token made at the command line or the admin API is bound to: a device
    token must name one, so a leaked token speaks for that device only."""
    device = (device or "").strip()
    if Role(role) is Role.DEVICE and not device:
        raise TokenDeviceError(device, "device is required for a device token: the id of the "
                                       "registered device whose alarms it raises")
    return device


@contextmanager
def _store(what: str) -> Iterator[None]:
    """Redis failing under an identity lookup is an outage (HTTP 503), not a refusal."""
    try:
        yield
    except redis.RedisError as exc:
        raise StoreError(f"could not {what}: {exc}") from exc


class Auth:
    """Every method raises StoreError when Redis cannot answer, AuthError when it says no."""

    def __init__(self, store: AuthStore, *, demo_mode: bool = False) -> None:
        """``demo_mode``: the app runs as ``grid-dispatch demo``, the one place demo accounts
        (whose passwords are printed for every visitor) may sign in."""
        self._store = store
        self._demo_mode = demo_mode
        self._cache: dict[str, tuple[Actor, float, float | None]] = {}

    def add_user(self, name: str, *, role: Role, password: str, display: str = "",
                 scope: Scope = DISTRICT, demo: bool = False) -> None:
        """Create or replace an account; ``demo`` marks one whose password is public."""
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"user name {name!r} must be letters, digits, '-' or '_'")
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        with _store("store the user"):
            self._store.put_user(name, role=Role(role).value, display=display, scope=str(scope),
                                 password_hash=generate_password_hash(password), demo=demo)

    def check_password(self, name: str, password: str) -> Actor:
        with _store("look up the user"):
            user = self._store.user(name)
        # an unknown name costs the same hash as a known one, so timing names no account
        stored = user["password_hash"] if user else _decoy_hash()
        if not check_password_hash(stored, password) or not user or not self._may_sign_in(user):
            raise AuthError(WRONG_PASSWORD)
        if user.get("disabled"):
            raise AuthError("this account is disabled")
        return _actor(name, user)

    def user(self, name: str) -> Actor | None:
        """The signed-in user, read on every request: a disabled or removed account's
        sessions end at their next request, and so does a demo account's outside the demo."""
        with _store("look up the user"):
            user = self._store.user(name)
        return _actor(name, user) if user and not user.get("disabled") \
            and self._may_sign_in(user) else None

    def _may_sign_in(self, user: dict[str, str]) -> bool:
        """A demo account signs in to the demo only: anywhere else its public password would
        open a site's Redis to everyone who read the README."""
        return self._demo_mode or not user.get("demo")

    def demo_accounts(self) -> list[str]:
        """Names of the accounts marked as demo accounts."""
        return [u["name"] for u in self.users() if u.get("demo")]

    def mark_demo(self, name: str, *, password: str) -> bool:
        """Mark an account as a demo account when ``password`` (a demo password, public) still
        opens it: demo accounts made before they were marked. True when it is one now."""
        with _store("look up the user"):
            user = self._store.user(name)
        if not user or not check_password_hash(user["password_hash"], password):
            return False
        if not user.get("demo"):
            with _store("change the user"):
                self._store.set_demo(name)
        return True

    def users(self) -> list[dict[str, str]]:
        """Every account without its password hash."""
        with _store("list the users"):
            return [{k: v for k, v in u.items() if k != "password_hash"}
                    for u in self._store.users()]

    def disable(self, name: str, *, disabled: bool = True) -> None:
        with _store("change the user"):
            if not self._store.set_disabled(name, disabled):
                raise UserNotFoundError(name)

    def remove(self, name: str) -> None:
        with _store("remove the user"):
            if not self._store.remove_user(name):
                raise UserNotFoundError(name)

    def create_token(self, *, name: str, role: Role, scope: Scope = DISTRICT,
                     expires_in_s: float | None = None, device: str = "") -> str:
        """A new bearer token; only its hash is kept, so this is the one time it is seen.

        ``device`` binds a device token to one registered device, the only one it may raise
        alarms for; a device token bound to none raises no alarm (see ``require_device``).
        Raises TokenDeviceError for a device on another role or one not registered.
        """
        role = Role(role)
        if device and role is not Role.DEVICE:
            raise TokenDeviceError(device, f"device is for device tokens only, not for a "
                                           f"{role.value} token")
        with _store("look up the device"):
            if device and not self._store.device_registered(device):
                raise TokenDeviceError(device, f"device {device!r} is not registered (register "
                                               "it first: POST /api/v1/iot/devices)")
        token = "gd_" + secrets.token_urlsafe(32)
        expires_at = None if expires_in_s is None else time.time() + expires_in_s
        with _store("store the token"):
            self._store.put_token(token, name=name, role=role.value, scope=str(scope),
                                  expires_at=expires_at, device=device)
        return token

    def tokens(self) -> list[TokenInfo]:
        """Every live token, newest first, by its id (never the token itself)."""
        with _store("list the tokens"):
            records = self._store.tokens()
        infos = [TokenInfo.of(r) for r in records]
        return sorted(infos, key=lambda i: i.created_at, reverse=True)

    def revoke(self, token_id: str, *, actor: str) -> TokenInfo:
        """Revoke the one token whose id starts with ``token_id`` (at least 8 characters)."""
        wanted = token_id.strip().lower()
        found = [i for i in self.tokens() if len(wanted) >= 8 and i.id.startswith(wanted)]
        if len(found) != 1:
            raise TokenNotFoundError(token_id, ambiguous=len(found) > 1)
        with _store("revoke the token"):
            self._store.revoke_token(found[0].digest, actor=actor)
        self._cache.clear()
        return found[0]

    def from_token(self, token: str) -> Actor:
        """The token's holder. Lookups are remembered for ``TOKEN_CACHE_S``, so a revoked
        token stops working within that time on every process."""
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit and now - hit[1] < TOKEN_CACHE_S and not _expired(hit[2]):
            return hit[0]
        with _store("look up the token"):
            record = self._store.token(token)
        expires = float(record["expires_at"]) if record and record.get("expires_at") else None
        if not record or _expired(expires):
            self._cache.pop(token, None)
            raise AuthError("token expired" if record else "unknown or revoked token")
        actor = _actor(record["name"], record)
        if actor.role is Role.DEVICE:
            actor = DeviceActor(name=actor.name, role=actor.role, scope=actor.scope,
                                device=record.get("device", ""))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (actor, now, expires)
        return actor


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What may be shown of a token: its id (a prefix of its hash), holder, reach and age."""

    id: str
    digest: str
    name: str
    role: str
    scope: str
    created_at: float
    expires_at: float | None
    device: str = ""  # the one device a device token speaks for

    @classmethod
    def of(cls, record: dict[str, str]) -> TokenInfo:
        return cls(id=record["digest"][:12], digest=record["digest"], name=record["name"],
                   role=record["role"], scope=record.get("scope") or "district",
                   created_at=float(record.get("created_at") or 0),
                   expires_at=float(record["expires_at"]) if record.get("expires_at")
                   else None, device=record.get("device", ""))

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "role": self.role, "scope": self.scope,
                "device": self.device or None, "created_at": self.created_at,
                "expires_at": self.expires_at}


class UserNotFoundError(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no user {name!r} (see users list)")
        self.name = name


class TokenNotFoundError(LookupError):
    """No token, or more than one, has an id starting with the value given."""

    def __init__(self, value: str, *, ambiguous: bool = False) -> None:
        super().__init__(f"token id {value!r} " + (
            "matches more than one token; give more characters" if ambiguous
            else "matches no token (ids have at least 8 characters; see tokens list)"))
        self.value = value


@cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))


def _expired(expires_at: float | None) -> bool:
    return expires_at is not None and time.time() >= expires_at


def _actor(name: str, record: dict[str, str]) -> Actor:
    """An account or token as an actor; records kept before scopes existed are district-wide."""
    return Actor(name=name, role=Role(record["role"]), scope=parse_scope(record.get("scope", "")))
