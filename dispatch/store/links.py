"""One-time sign-in links for workers' phones: a token names an account, once, for a while.

Only the token's digest is stored, so a copy of Redis opens no phone; the key expires by
itself, and redeeming reads and deletes it in one transaction, so two taps on the same link
(or a link opened on two phones) sign in once.
"""

from __future__ import annotations

import secrets

import redis

from dispatch.store import keys
from dispatch.store.auth import token_digest
from dispatch.store.core import Store
from dispatch.store.errors import StoreError


class LinkStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> LinkStore:
        """The links on the same connection pool as ``store``."""
        return cls(store._r)

    def issue(self, account: str, *, ttl_s: int) -> str:
        """A new token that signs ``account`` in once within ``ttl_s`` seconds."""
        if ttl_s <= 0:
            raise ValueError(f"a link must live a while, got ttl_s={ttl_s}")
        token = secrets.token_urlsafe(24)
        try:
            self._r.set(keys.worker_link(token_digest(token)), account, ex=ttl_s, nx=True)
        except redis.RedisError as exc:
            raise StoreError(f"could not store the sign-in link: {exc}") from exc
        return token

    def redeem(self, token: str) -> str | None:
        """The account the token names, or None when it is unknown, used or expired."""
        key = keys.worker_link(token_digest(token))
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.delete(key)
                account, _ = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"could not read the sign-in link: {exc}") from exc
        if account is None:
            return None
        return account.decode() if isinstance(account, bytes) else str(account)

    def key_of(self, token: str) -> str:
        """The key a token is kept under (for an operator's look, or a test's TTL)."""
        return keys.worker_link(token_digest(token))
