"""Who is asking: users with passwords (pages), bearer tokens (APIs, devices, integrations)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from werkzeug.security import check_password_hash, generate_password_hash

from dispatch.access.roles import Actor, Role
from dispatch.access.scope import DISTRICT, Scope, parse_scope
from dispatch.store import StoreError
from dispatch.store.auth import AuthStore

TOKEN_CACHE_S = 5.0

class AuthError(PermissionError):
    """A wrong password, or a token that is unknown or revoked."""


@contextmanager
def _store(what: str) -> Iterator[None]:
    """Redis failing under an identity lookup is an outage (HTTP 503), not a refusal."""
    try:
        yield
    except redis.RedisError as exc:
        raise StoreError(f"could not {what}: {exc}") from exc


class Auth:
    """Every method raises StoreError when Redis cannot answer, AuthError when it says no."""

    def __init__(self, store: AuthStore) -> None:
        self._store = store
        self._cache: dict[str, tuple[Actor, float]] = {}

    def add_user(self, name: str, *, role: Role, password: str, display: str = "",
                 scope: Scope = DISTRICT) -> None:
        if not name or not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"user name {name!r} must be letters, digits, '-' or '_'")
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        with _store("store the user"):
            self._store.put_user(name, role=Role(role).value, display=display, scope=str(scope),
                                 password_hash=generate_password_hash(password))

    def check_password(self, name: str, password: str) -> Actor:
        with _store("look up the user"):
            user = self._store.user(name)
        if not user or not check_password_hash(user["password_hash"], password):
            raise AuthError("wrong user name or password")
        return _actor(name, user)

    def user(self, name: str) -> Actor | None:
        with _store("look up the user"):
            user = self._store.user(name)
        return _actor(name, user) if user else None

    def create_token(self, *, name: str, role: Role, scope: Scope = DISTRICT) -> str:
        """A new bearer token; only its hash is kept, so this is the one time it is seen."""
        token = "gd_" + secrets.token_urlsafe(32)
        with _store("store the token"):
            self._store.put_token(token, name=name, role=Role(role).value, scope=str(scope))
        return token

    def from_token(self, token: str) -> Actor:
        """The token's holder. Lookups are remembered for a few seconds, so a revoked token
        stops working within ``TOKEN_CACHE_S`` on every process."""
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit and now - hit[1] < TOKEN_CACHE_S:
            return hit[0]
        with _store("look up the token"):
            record = self._store.token(token)
        if not record:
            self._cache.pop(token, None)
            raise AuthError("unknown or revoked token")
        actor = _actor(record["name"], record)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (actor, now)
        return actor


def _actor(name: str, record: dict[str, str]) -> Actor:
    """An account or token as an actor; records kept before scopes existed are district-wide."""
    return Actor(name=name, role=Role(record["role"]), scope=parse_scope(record.get("scope", "")))
