"""Signed-in browsers' sessions in Redis, and which sessions each account holds.

The session data itself is written by Flask-Session under ``keys.SESSION_PREFIX``; this store
gives it a byte-level connection (Flask-Session serialises with msgpack) and keeps an index
per account, so an administrator can end every session of one person at once.
"""

from __future__ import annotations

import redis

from dispatch.store import keys
from dispatch.store.core import Store, as_members
from dispatch.store.errors import StoreError


class SessionStore:
    def __init__(self, client: redis.Redis, *, raw: redis.Redis) -> None:
        self._r = client
        self.raw = raw  # bytes in, bytes out: what Flask-Session reads and writes

    @classmethod
    def of(cls, store: Store) -> SessionStore:
        kwargs = dict(store._r.connection_pool.connection_kwargs)
        kwargs["decode_responses"] = False
        raw = redis.Redis(connection_pool=redis.ConnectionPool(
            connection_class=store._r.connection_pool.connection_class, **kwargs))
        return cls(store._r, raw=raw)

    def held(self, account: str, sid: str, *, ttl_s: int) -> None:
        """Note that ``account`` signed in with session ``sid``."""
        key = keys.user_sessions(account)
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.sadd(key, sid)
                pipe.expire(key, ttl_s)
                pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"session not recorded: {exc}") from exc

    def end_all(self, account: str) -> int:
        """End every session ``account`` holds; returns how many were still open."""
        key = keys.user_sessions(account)
        try:
            sids = as_members(self._r.smembers(key))
            with self._r.pipeline(transaction=True) as pipe:
                for sid in sids:
                    pipe.delete(keys.session(sid))
                pipe.delete(key)
                ended = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"sessions not ended: {exc}") from exc
        return sum(int(n) for n in ended[:-1])

    def forget(self, account: str, sid: str) -> None:
        try:
            self._r.srem(keys.user_sessions(account), sid)
        except redis.RedisError as exc:
            raise StoreError(f"session not forgotten: {exc}") from exc

    def close(self) -> None:
        self.raw.close()
