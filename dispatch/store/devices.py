"""The IoT device registry in Redis: one hash per device, a set of ids, every change streamed.

A registration writes the device hash and its ``device.registered`` entry in the ``changes``
stream in one MULTI/EXEC, like every other change, so the audit trail always says who placed
a device where. The entry carries ``device``, not ``id``: ``id`` means an event to the readers
of the stream.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import redis
from redis.typing import EncodableT, FieldT

from dispatch.events.models import ChangeKind
from dispatch.store import keys
from dispatch.store.core import Store, as_fields, as_hash, as_members
from dispatch.store.errors import StoreError
from dispatch.store.keys import CHANGES


class DeviceStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> DeviceStore:
        """The registry on the same connection pool as ``store`` (same package, same Redis)."""
        return cls(store._r)

    def put(self, device_id: str, fields: Mapping[str, str], *, actor: str, role: str) -> bool:
        """Create or replace one device; returns True when it was new."""
        key = keys.device(device_id)
        entry: dict[FieldT, EncodableT] = {
            "kind": ChangeKind.DEVICE_REGISTERED.value, "device": device_id, "actor": actor,
            "role": role, "at": f"{time.time():.3f}", "street": fields.get("street", "")}
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.sadd(keys.DEVICES, device_id)
                pipe.delete(key)
                pipe.hset(key, mapping=as_fields(fields))
                pipe.xadd(CHANGES, entry)
                added = pipe.execute()[0]
        except redis.RedisError as exc:
            raise StoreError(f"could not register device {device_id!r}: {exc}") from exc
        return bool(added)

    def get(self, device_id: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(keys.device(device_id))) or None

    def all(self) -> list[dict[str, str]]:
        ids = sorted(as_members(self._r.smembers(keys.DEVICES)))
        with self._r.pipeline(transaction=False) as pipe:
            for device_id in ids:
                pipe.hgetall(keys.device(device_id))
            return [d for d in pipe.execute() if d]
