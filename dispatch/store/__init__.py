"""The only package that talks to Redis. See ``core`` for the change-stream discipline."""

from dispatch.store.core import Store
from dispatch.store.errors import StoreError
from dispatch.store.keys import CHANGES

__all__ = ["CHANGES", "Store", "StoreError"]
