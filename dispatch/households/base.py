"""The household base as the rest of the app uses it: load, figures, masked views, sweep order.

Records are sealed in Redis and opened here, only as far as asked: ``priority_first`` opens
the special-population households of the scope (found by the priority sets, in the clear)
and none of the others. Views show a householder's name and phone masked unless a reveal
is asked for; the address stays whole, since a sweeper has to find the door. Auditing a
reveal is the caller's part (it knows who asked and why).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from dispatch.households.models import Household, SpecialTag, building_of, micro_of
from dispatch.households.table import (
    SEALED_FIELD,
    TAGS,
    HouseholdTable,
    parse_record,
    record_tags,
    summary_figures,
)
from dispatch.privacy.mask import mask_name, mask_phone
from dispatch.privacy.vault import Vault
from dispatch.store.households import HouseholdStore

#: Two-character surnames a masked name keeps whole (欧阳** rather than 欧***).
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐",
    "夏侯", "端木", "西门", "司徒", "司空", "宇文", "独孤", "南宫", "呼延", "轩辕", "闻人"})


class UnknownHouseholdError(LookupError):
    """A household id that is not in the base."""

    def __init__(self, household_id: str) -> None:
        super().__init__(f"household {household_id!r} is not in the household base")
        self.household_id = household_id


def mask_head(name: str) -> str:
    """张*, 王**, 欧阳**: the surname shown, the given name starred."""
    name = name.strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2] + "*" * (len(name) - 2)
    return mask_name(name)


class HouseholdBase:
    """The resident base on one store, opened with one vault."""

    def __init__(self, *, store: HouseholdStore, vault: Vault) -> None:
        self.store = store
        self._vault = vault

    def load(self, households: Iterable[Household] | HouseholdTable) -> int:
        """Replace the whole base; returns how many households it now holds."""
        return self.store.replace_all(households, vault=self._vault)

    def count(self) -> int:
        return self.store.count()

    def summary(self) -> dict[str, Any]:
        """Households, micro-grids, buildings, per-tag and priority counts of the stored base
        (the tags are sealed: the priority households' records are opened to count them)."""
        counts = self.store.counts()
        micros = sorted(counts)
        buildings = sum(len(b) for b in self.store.buildings_many(micros).values())
        priority = [i for found in self.store.priority_many(micros).values() for i in found]
        by_tag = Counter(t.value for tags in self._tags(priority).values() for t in tags)
        return summary_figures(households=sum(counts.values()), micro_grids=len(counts),
                               buildings=buildings, by_tag=dict(by_tag),
                               priority=len(priority))

    def record(self, household_id: str) -> Household:
        """One household, opened; UnknownHouseholdError when it is not in the base."""
        found = self.opened([household_id])
        if household_id not in found:
            raise UnknownHouseholdError(household_id)
        return found[household_id]

    def opened(self, ids: Iterable[str]) -> dict[str, Household]:
        """The households of ``ids`` that are in the base, opened, in the order asked."""
        sealed = self.store.records(ids)
        return {i: parse_record(i, self._vault.open(SEALED_FIELD, s)) for i, s in sealed.items()}

    def views(self, ids: Sequence[str], *, reveal: bool = False) -> list[dict[str, Any]]:
        """What a screen shows of each household in the base, in the order asked: name and
        phone masked unless ``reveal``, tags as their Chinese labels, the address whole."""
        return [_view(h, reveal=reveal) for h in self.opened(ids).values()]

    def in_scope(self, micro_codes: Iterable[str]) -> int:
        """Households in these micro-grids."""
        return self.store.count_in(micro_codes)

    def priority_first(self, micro_codes: Iterable[str], *, reached: set[str], limit: int,
                       order: Sequence[SpecialTag] = TAGS) -> list[str]:
        """Up to ``limit`` special-population households of the micro-grids not yet reached,
        the most urgent first: by their most urgent tag in ``order`` (tags it leaves out come
        after), then their next, then by id (building by building)."""
        if limit <= 0:
            return []
        found = self.store.priority_many(micro_codes)
        todo = [i for ids in found.values() for i in ids if i not in reached]
        rank = {tag: k for k, tag in enumerate(order)}
        last = len(order)

        def urgency(item: tuple[str, tuple[SpecialTag, ...]]) -> tuple[tuple[int, ...], str]:
            ranks = sorted(rank.get(t, last) for t in item[1])
            return tuple(ranks + [last + 1] * (len(TAGS) - len(ranks))), item[0]

        return [i for i, _ in heapq.nsmallest(limit, self._tags(todo).items(), key=urgency)]

    def _tags(self, ids: Iterable[str]) -> dict[str, tuple[SpecialTag, ...]]:
        """The tags of each household of ``ids`` in the base (opened, not made models)."""
        sealed = self.store.records(ids)
        return {i: record_tags(i, self._vault.open(SEALED_FIELD, s)) for i, s in sealed.items()}


def _view(h: Household, *, reveal: bool) -> dict[str, Any]:
    return {"id": h.id, "micro": micro_of(h.id), "building": building_of(h.id),
            "address": h.address, "head": h.head if reveal else mask_head(h.head),
            "phone": h.phone if reveal else mask_phone(h.phone), "members": h.members,
            "tags": [t.label for t in h.tags], "priority": bool(h.tags)}
