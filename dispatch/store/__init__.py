"""The only package that talks to Redis. See ``core`` for the change-stream discipline."""

from dispatch.store.core import CHANGES, Store, StoreError

__all__ = ["CHANGES", "Store", "StoreError"]
