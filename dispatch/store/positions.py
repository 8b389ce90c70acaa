"""Workers' last positions in Redis: a GEO set to search by distance, with when and how well.

A report replaces the worker's previous position (one member per worker), so the set stays
as large as the roster however often phones report; one MULTI/EXEC keeps position, time and
accuracy together. An older report arriving late never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import redis

from dispatch.store import keys
from dispatch.store.core import Store
from dispatch.store.errors import StoreError

#: Lua: write the position only if it is newer than the stored one (phones resend late).
_NEWER = """
local seen = redis.call('ZSCORE', KEYS[2], ARGV[1])
if seen and tonumber(seen) >= tonumber(ARGV[4]) then return 0 end
redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[1])
return 1
"""


#: Lua: the nearest positions with when and how well, in one call (one round trip).
_NEAR = """
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2],
    'BYRADIUS', ARGV[3], 'm', 'ASC', 'COUNT', ARGV[4], 'WITHCOORD', 'WITHDIST')
local out = {}
for i, row in ipairs(found) do
  local id = row[1]
  out[i] = {id, row[2], row[3][1], row[3][2], redis.call('ZSCORE', KEYS[2], id) or '',
            redis.call('HGET', KEYS[3], id) or '0'}
end
return out
"""


@dataclass(frozen=True, slots=True)
class StoredPosition:
    worker_id: str
    lon: float
    lat: float
    at_ms: int
    accuracy_m: float
    distance_m: float | None = None


class PositionStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client
        self._newer = client.register_script(_NEWER)
        self._near = client.register_script(_NEAR)

    @classmethod
    def of(cls, store: Store) -> PositionStore:
        return cls(store._r)

    def put(self, worker_id: str, *, lon: float, lat: float, at_ms: int,
            accuracy_m: float) -> bool:
        """Store one report; False when a newer position is already stored."""
        return bool(self.put_many([(worker_id, lon, lat, at_ms, accuracy_m)])[0])

    def put_many(self, reports: Sequence[tuple[str, float, float, int, float]]) -> list[bool]:
        """Many reports in one round trip (a simulator's tick, a batch from a gateway)."""
        pos_keys = [keys.WORKER_POSITIONS, keys.WORKER_SEEN, keys.WORKER_ACCURACY,
                    keys.WORKER_MOVED, keys.WORKER_MOVES]
        try:
            with self._r.pipeline(transaction=False) as pipe:
                for wid, lon, lat, at_ms, acc in reports:
                    self._newer(keys=pos_keys, args=[wid, repr(lon), repr(lat), at_ms,
                                                     f"{acc:.1f}"], client=pipe)
                return [bool(x) for x in pipe.execute()]
        except redis.RedisError as exc:
            raise StoreError(f"positions not stored: {exc}") from exc

    def get_many(self, worker_ids: Sequence[str]) -> list[StoredPosition | None]:
        if not worker_ids:
            return []
        try:
            with self._r.pipeline(transaction=False) as pipe:
                pipe.geopos(keys.WORKER_POSITIONS, *worker_ids)
                pipe.zmscore(keys.WORKER_SEEN, list(worker_ids))
                pipe.hmget(keys.WORKER_ACCURACY, list(worker_ids))
                where, seen, acc = pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"positions not read: {exc}") from exc
        return [None if p is None or s is None else
                StoredPosition(wid, float(p[0]), float(p[1]), int(s), float(a or 0))
                for wid, p, s, a in zip(worker_ids, where, seen, acc, strict=True)]

    def near(self, *, lon: float, lat: float, radius_m: float,
             count: int = 50) -> list[StoredPosition]:
        """Workers whose last position is within ``radius_m``, nearest first."""
        try:
            rows = self._near(keys=[keys.WORKER_POSITIONS, keys.WORKER_SEEN,
                                    keys.WORKER_ACCURACY],
                              args=[repr(lon), repr(lat), repr(radius_m), count])
        except redis.RedisError as exc:
            raise StoreError(f"positions not searched: {exc}") from exc
        # [id, metres, lon, lat, seen ms, accuracy]: a member is in all three or none
        return [StoredPosition(str(wid), float(x), float(y), int(float(seen)), float(acc),
                               float(dist))
                for wid, dist, x, y, seen, acc in rows if seen != ""]

    def moved_since(self, after: int, *, limit: int = 20_000) -> tuple[list[str], int]:
        """Workers whose position was stored after move number ``after``, and the newest
        number seen (the next call's ``after``): live maps move only the markers that moved.

        Numbers come from one counter the write script increments, so a write that lands
        after a look always has a higher number than anything that look saw."""
        try:
            flat = self._r.zrangebyscore(keys.WORKER_MOVED, f"({after}", "+inf", start=0,
                                         num=limit, withscores=True)
        except redis.RedisError as exc:
            raise StoreError(f"positions not read: {exc}") from exc
        pairs = cast("list[tuple[str, float]]", flat)  # WITHSCORES, decoded: [member, score]
        newest = max((int(score) for _, score in pairs), default=after)
        return [member for member, _ in pairs], newest

    def last_move(self) -> int:
        """The newest move number (where a new feed starts looking)."""
        try:
            return int(self._r.get(keys.WORKER_MOVES) or 0)
        except redis.RedisError as exc:
            raise StoreError(f"positions not read: {exc}") from exc

    def all_ids(self) -> list[str]:
        try:
            return cast("list[str]", self._r.zrange(keys.WORKER_SEEN, 0, -1))
        except redis.RedisError as exc:
            raise StoreError(f"positions not read: {exc}") from exc

    def forget(self, worker_ids: Iterable[str]) -> None:
        ids = list(worker_ids)
        if not ids:
            return
        try:
            with self._r.pipeline(transaction=True) as pipe:
                pipe.zrem(keys.WORKER_POSITIONS, *ids)
                pipe.zrem(keys.WORKER_SEEN, *ids)
                pipe.hdel(keys.WORKER_ACCURACY, *ids)
                pipe.zrem(keys.WORKER_MOVED, *ids)
                pipe.execute()
        except redis.RedisError as exc:
            raise StoreError(f"positions not removed: {exc}") from exc
