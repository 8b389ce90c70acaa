"""The audit stream in Redis: who read or revealed personal data, when, and why.

Kept apart from the change stream, which already records every change with its actor: the
two together are the audit trail, and ``grid-dispatch audit export`` reads both.
"""

from __future__ import annotations

from collections.abc import Mapping

import redis

from dispatch.store import keys
from dispatch.store.core import Entry, Store, as_entries, as_fields
from dispatch.store.errors import StoreError
from dispatch.store.keys import AUDIT, CHANGES


class AuditStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> AuditStore:
        return cls(store._r)

    def append(self, entry: Mapping[str, str]) -> str:
        try:
            return str(self._r.xadd(AUDIT, as_fields(entry)))
        except redis.RedisError as exc:
            raise StoreError(f"audit entry not written: {exc}") from exc

    def first_in(self, *, actor: str, action: str, target: str, window_s: int) -> bool:
        """Whether this is the first such read in the window (a screen re-rendering an open
        event on every live update is one read, not one a second)."""
        try:
            return bool(self._r.set(keys.audit_seen(actor, action, target), "1", nx=True,
                                    ex=window_s))
        except redis.RedisError as exc:
            raise StoreError(f"audit window not checked: {exc}") from exc

    def entries(self, *, start: str = "-", end: str = "+", count: int = 10_000,
                changes: bool = False) -> list[Entry]:
        """Entries between two stream ids, oldest first, from the audit (or change) stream."""
        return as_entries(self._r.xrange(CHANGES if changes else AUDIT, start, end, count=count))
