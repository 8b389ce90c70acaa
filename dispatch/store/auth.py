"""Users and API tokens in Redis. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import time

import redis

from dispatch.store import keys
from dispatch.store.core import as_hash, as_members


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def put_user(self, name: str, *, role: str, password_hash: str, display: str = "",
                 scope: str = "district") -> None:
        self._r.hset(keys.user(name), mapping={
            "name": name, "role": role, "password_hash": password_hash, "scope": scope,
            "display": display or name, "created_at": f"{time.time():.3f}"})
        self._r.sadd(keys.USERS, name)

    def user(self, name: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(keys.user(name))) or None

    def users(self) -> list[dict[str, str]]:
        names = sorted(as_members(self._r.smembers(keys.USERS)))
        with self._r.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.hgetall(keys.user(n))
            return [u for u in pipe.execute() if u]

    def put_token(self, token: str, *, name: str, role: str, scope: str = "district") -> str:
        digest = token_digest(token)
        self._r.hset(keys.token(digest), mapping={
            "name": name, "role": role, "scope": scope, "created_at": f"{time.time():.3f}"})
        self._r.sadd(keys.TOKENS, digest)
        return digest

    def token(self, token: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(keys.token(token_digest(token)))) or None

    def revoke_token(self, digest: str) -> bool:
        self._r.srem(keys.TOKENS, digest)
        return bool(self._r.delete(keys.token(digest)))
