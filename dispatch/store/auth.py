"""Users and API tokens in Redis. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import time

import redis

from dispatch.store.core import as_hash, as_members


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def put_user(self, name: str, *, role: str, password_hash: str, display: str = "") -> None:
        self._r.hset(f"user:{name}", mapping={
            "name": name, "role": role, "password_hash": password_hash,
            "display": display or name, "created_at": f"{time.time():.3f}"})
        self._r.sadd("users", name)

    def user(self, name: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(f"user:{name}")) or None

    def users(self) -> list[dict[str, str]]:
        names = sorted(as_members(self._r.smembers("users")))
        with self._r.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.hgetall(f"user:{n}")
            return [u for u in pipe.execute() if u]

    def put_token(self, token: str, *, name: str, role: str) -> str:
        digest = token_digest(token)
        self._r.hset(f"token:{digest}", mapping={
            "name": name, "role": role, "created_at": f"{time.time():.3f}"})
        self._r.sadd("tokens", digest)
        return digest

    def token(self, token: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(f"token:{token_digest(token)}")) or None

    def revoke_token(self, digest: str) -> bool:
        self._r.srem("tokens", digest)
        return bool(self._r.delete(f"token:{digest}"))
