"""The household base in Redis: a hash of sealed records and a priority set per micro-grid.

A sweep works micro-grid by micro-grid, so that is the unit of storage: one hash (household
id → the sealed record) and one set of the ids carrying any special-population tag, so the
households to reach first are listed without opening anything. ``households:grids`` counts
what each micro-grid holds: the figures, and what a reload clears.

A base is a district's worth (642,571 households in the demo): one MULTI/EXEC would hold
Redis for seconds, so a load is written in transactions of whole micro-grids. A reader sees
each micro-grid old or new, never half of one; while a load runs, some micro-grids may
already be new. The version is bumped at the end, after the micro-grids no longer present
are cleared; a load that fails part-way leaves the version as it was, and loading the same
base again completes it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

import redis
from redis.typing import EncodableT, FieldT

from dispatch.households.models import Household, building_of, micro_of
from dispatch.households.table import SEALED_FIELD, HouseholdTable
from dispatch.store import keys
from dispatch.store.core import Store, as_hash, as_members, as_texts
from dispatch.store.errors import StoreError
from dispatch.store.keys import HOUSEHOLDS_GRIDS, HOUSEHOLDS_VERSION

if TYPE_CHECKING:
    from dispatch.privacy.vault import Vault

#: Households per transaction (whole micro-grids, so a little more): short enough that
#: Redis answers other clients between them.
CHUNK = 20_000
_UNLINK = 1000  # keys per UNLINK when clearing micro-grids no longer present


class DuplicateHouseholdError(ValueError):
    """A base names one household id twice; nothing is stored."""

    def __init__(self, household_id: str) -> None:
        super().__init__(f"household id {household_id!r} is in the base twice")
        self.household_id = household_id


class HouseholdStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> HouseholdStore:
        """The household base on the same connection pool as ``store``."""
        return cls(store._r)

    # --- writing ---------------------------------------------------------------------------

    def replace_all(self, households: Iterable[Household] | HouseholdTable, *,
                    vault: Vault) -> int:
        """Make ``households`` the whole base, each record sealed; returns how many."""
        table = (households if isinstance(households, HouseholdTable)
                 else HouseholdTable.of(households))
        groups = _by_micro(table)
        plain = table.records()
        tagged = table.tags.astype(bool).tolist()
        try:
            old = set(_texts(self._r.hkeys(HOUSEHOLDS_GRIDS)))
            batch: list[tuple[str, list[int]]] = []
            size = 0
            for micro, rows in groups.items():
                batch.append((micro, rows))
                size += len(rows)
                if size >= CHUNK:
                    self._write(batch, table.ids, plain, tagged, vault)
                    batch, size = [], 0
            if batch:
                self._write(batch, table.ids, plain, tagged, vault)
            self._finish(sorted(old - groups.keys()))
        except redis.RedisError as exc:
            raise StoreError(f"could not load the household base of {len(table):,} "
                             f"households: {exc}") from exc
        return len(table)

    def _write(self, batch: list[tuple[str, list[int]]], ids: list[str], plain: list[str],
               tagged: list[bool], vault: Vault) -> None:
        """Replace the micro-grids of ``batch`` whole, in one MULTI/EXEC."""
        with self._r.pipeline(transaction=True) as pipe:
            counts: dict[FieldT, EncodableT] = {}
            for micro, rows in batch:
                sealed: dict[FieldT, EncodableT] = {
                    ids[i]: vault.seal(SEALED_FIELD, plain[i]) for i in rows}
                priority = [ids[i] for i in rows if tagged[i]]
                pipe.unlink(keys.households(micro), keys.households_priority(micro))
                pipe.hset(keys.households(micro), mapping=sealed)
                if priority:
                    pipe.sadd(keys.households_priority(micro), *priority)
                counts[micro] = len(rows)
            pipe.hset(HOUSEHOLDS_GRIDS, mapping=counts)
            pipe.execute()

    def _finish(self, stale: list[str]) -> None:
        """Clear the micro-grids the new base does not have, and bump the version."""
        doomed = [k for m in stale for k in (keys.households(m), keys.households_priority(m))]
        with self._r.pipeline(transaction=True) as pipe:
            for start in range(0, len(doomed), _UNLINK):
                pipe.unlink(*doomed[start:start + _UNLINK])
            for start in range(0, len(stale), _UNLINK):
                pipe.hdel(HOUSEHOLDS_GRIDS, *stale[start:start + _UNLINK])
            pipe.incr(HOUSEHOLDS_VERSION)
            pipe.execute()

    # --- reading ---------------------------------------------------------------------------

    def count(self) -> int:
        return sum(self.counts().values())

    def counts(self) -> dict[str, int]:
        """Micro-grid → households stored for it."""
        return {m: int(n) for m, n in as_hash(self._r.hgetall(HOUSEHOLDS_GRIDS)).items()}

    def count_in(self, micros: Iterable[str]) -> int:
        """Households of these micro-grids (one HMGET; unknown codes count 0)."""
        asked = sorted(set(micros))
        if not asked:
            return 0
        found = as_texts(self._r.hmget(HOUSEHOLDS_GRIDS, asked))
        return sum(int(n) for n in found if n is not None)

    def version(self) -> str:
        """Changes with every load (caches compare it); "0" before the first."""
        return str(self._r.get(HOUSEHOLDS_VERSION) or "0")

    def ids(self, micro: str) -> list[str]:
        """Every household of one micro-grid, by id (building, then number)."""
        return sorted(self._keys(micro))

    def ids_in_building(self, building_id: str) -> list[str]:
        return sorted(i for i in self._keys(micro_of(building_id))
                      if building_of(i) == building_id)

    def buildings(self, micro: str) -> dict[str, int]:
        """Building id → households, for one micro-grid."""
        return dict(sorted(Counter(building_of(i) for i in self._keys(micro)).items()))

    def buildings_many(self, micros: Sequence[str]) -> dict[str, dict[str, int]]:
        """``buildings`` of every micro-grid asked, in one pipeline."""
        with self._r.pipeline(transaction=False) as pipe:
            for micro in micros:
                pipe.hkeys(keys.households(micro))
            replies = pipe.execute()
        return {m: dict(sorted(Counter(building_of(i) for i in found).items()))
                for m, found in zip(micros, replies, strict=True)}

    def priority(self, micro: str) -> set[str]:
        """The special-population households of one micro-grid."""
        return as_members(self._r.smembers(keys.households_priority(micro)))

    def priority_many(self, micros: Iterable[str]) -> dict[str, set[str]]:
        """``priority`` of every micro-grid asked, in one pipeline."""
        asked = list(dict.fromkeys(micros))
        with self._r.pipeline(transaction=False) as pipe:
            for micro in asked:
                pipe.smembers(keys.households_priority(micro))
            replies = pipe.execute()
        return {m: set(found) for m, found in zip(asked, replies, strict=True)}

    def priority_counts(self, micros: Iterable[str]) -> dict[str, int]:
        """How many special-population households each micro-grid has (one pipeline)."""
        asked = list(dict.fromkeys(micros))
        with self._r.pipeline(transaction=False) as pipe:
            for micro in asked:
                pipe.scard(keys.households_priority(micro))
            replies = pipe.execute()
        return {m: int(n) for m, n in zip(asked, replies, strict=True)}

    def records(self, ids: Iterable[str]) -> dict[str, str]:
        """Household id → its sealed record, for those stored (one HMGET per micro-grid,
        all in one pipeline)."""
        by_micro: dict[str, list[str]] = defaultdict(list)
        for household_id in dict.fromkeys(ids):
            by_micro[micro_of(household_id)].append(household_id)
        with self._r.pipeline(transaction=False) as pipe:
            for micro, asked in by_micro.items():
                pipe.hmget(keys.households(micro), asked)
            replies = pipe.execute()
        return {i: v for asked, got in zip(by_micro.values(), replies, strict=True)
                for i, v in zip(asked, got, strict=True) if v is not None}

    def exists_many(self, ids: Sequence[str]) -> list[bool]:
        """Whether each id is in the base, in the order asked (one pipeline)."""
        with self._r.pipeline(transaction=False) as pipe:
            for household_id in ids:
                pipe.hexists(keys.households(micro_of(household_id)), household_id)
            return [bool(found) for found in pipe.execute()]

    def _keys(self, micro: str) -> list[str]:
        return _texts(self._r.hkeys(keys.households(micro)))


def _texts(reply: object) -> list[str]:
    """HKEYS: the fields, decoded (every client here decodes replies)."""
    return cast("list[str]", reply)


def _by_micro(table: HouseholdTable) -> dict[str, list[int]]:
    """Row indices of each micro-grid, in row order; a repeated id is refused."""
    if len(set(table.ids)) != len(table):
        seen: set[str] = set()
        for household_id in table.ids:
            if household_id in seen:
                raise DuplicateHouseholdError(household_id)
            seen.add(household_id)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, household_id in enumerate(table.ids):
        groups[micro_of(household_id)].append(i)
    return dict(groups)
