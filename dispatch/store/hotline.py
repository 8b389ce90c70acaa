"""Which 12345 orders are already events: one hash, order number → event id, kept for good.

The events' idempotency keys expire after a day, but hotline exports overlap for weeks (a
monthly export repeats every daily one), so the import also remembers each order it stored.
It is written right after the batch; a process dying in between is still covered by the
idempotency keys for a day, long enough for the retry that follows such a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import redis

from dispatch.store.core import Store, as_fields, as_texts
from dispatch.store.errors import StoreError
from dispatch.store.keys import HOTLINE_ORDERS


class HotlineStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> HotlineStore:
        """The order index on the same connection pool as ``store``."""
        return cls(store._r)

    def known(self, orders: Iterable[str]) -> dict[str, str]:
        """Order number → event id, for the orders already imported."""
        orders = list(orders)
        if not orders:
            return {}
        try:
            ids = as_texts(self._r.hmget(HOTLINE_ORDERS, orders))
        except redis.RedisError as exc:
            raise StoreError(f"could not read the 12345 order index: {exc}") from exc
        return {o: i for o, i in zip(orders, ids, strict=True) if i}

    def remember(self, pairs: Mapping[str, str]) -> None:
        if not pairs:
            return
        try:
            self._r.hset(HOTLINE_ORDERS, mapping=as_fields(pairs))
        except redis.RedisError as exc:
            raise StoreError(f"could not record 12345 orders: {exc}") from exc
