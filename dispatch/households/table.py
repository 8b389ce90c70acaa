"""Households column by column, and the one record format a household is sealed in.

A district holds hundreds of thousands of households: a list of pydantic models costs seconds
to build and validate, columns cost milliseconds. The demo base is generated and cached as a
table; an import yields models, and ``HouseholdTable.of`` turns them into a table, so the
store writes one shape either way.

The record sealed per household is compact JSON with one-letter keys (the sealed text is
base64, so every plain byte costs more than one in Redis)::

    {"a": address, "h": head, "p": phone, "m": members, "t": [tag values]}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from dispatch.households.models import Household, SpecialTag, building_of, micro_of

#: The field name a record is sealed under (bound in as associated data: see ``Vault``).
SEALED_FIELD = "household"
#: Tag order of the bit masks: bit i is TAGS[i].
TAGS: tuple[SpecialTag, ...] = tuple(SpecialTag)
_BIT = {tag: 1 << i for i, tag in enumerate(TAGS)}
_MASKS = 1 << len(TAGS)
#: mask → its tags, and the JSON array of their values (every mask, computed once).
_TAGS_OF: tuple[tuple[SpecialTag, ...], ...] = tuple(
    tuple(t for t in TAGS if m & _BIT[t]) for m in range(_MASKS))


class RecordError(ValueError):
    """An opened household record that is not what ``record_json`` writes."""

    def __init__(self, household_id: str, reason: str) -> None:
        super().__init__(f"household {household_id!r}: stored record is unreadable ({reason})")
        self.household_id = household_id


def tag_mask(tags: Iterable[SpecialTag]) -> int:
    mask = 0
    for tag in tags:
        mask |= _BIT[tag]
    return mask


def tags_of(mask: int) -> tuple[SpecialTag, ...]:
    return _TAGS_OF[mask]


def record_json(address: str, head: str, phone: str, members: int,
                tags: Sequence[SpecialTag]) -> str:
    """The plain text sealed for one household."""
    return orjson.dumps({"a": address, "h": head, "p": phone, "m": members,
                         "t": [t.value for t in tags]}).decode()


def parse_record(household_id: str, plain: str) -> Household:
    """The household an opened record describes; RecordError when it is not one."""
    try:
        data = orjson.loads(plain)
        return Household(id=household_id, address=data["a"], head=data["h"], phone=data["p"],
                         members=data["m"], tags=tuple(SpecialTag(t) for t in data["t"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RecordError(household_id, type(exc).__name__) from None


def record_tags(household_id: str, plain: str) -> tuple[SpecialTag, ...]:
    """Only the tags of an opened record: cheaper than the whole model, for counting and
    ranking many."""
    try:
        return tuple(SpecialTag(t) for t in orjson.loads(plain)["t"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise RecordError(household_id, type(exc).__name__) from None


@dataclass(frozen=True, slots=True)
class HouseholdTable:
    """Households as columns; ``tags`` holds a bit mask per household (bit i = ``TAGS[i]``)."""

    ids: list[str]
    address: list[str]
    head: list[str]
    phone: list[str]
    members: NDArray[np.int16]
    tags: NDArray[np.uint8]

    def __post_init__(self) -> None:
        n = len(self.ids)
        if not all(len(c) == n for c in (self.address, self.head, self.phone, self.members,
                                          self.tags)):
            raise ValueError("household columns differ in length")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def of(cls, households: Iterable[Household]) -> HouseholdTable:
        rows = list(households)
        return cls(ids=[h.id for h in rows], address=[h.address for h in rows],
                   head=[h.head for h in rows], phone=[h.phone for h in rows],
                   members=np.array([h.members for h in rows], dtype=np.int16),
                   tags=np.array([tag_mask(h.tags) for h in rows], dtype=np.uint8))

    def household(self, i: int) -> Household:
        return Household(id=self.ids[i], address=self.address[i], head=self.head[i],
                         phone=self.phone[i], members=int(self.members[i]),
                         tags=tags_of(int(self.tags[i])))

    def households(self) -> list[Household]:
        """Every row as a validated model (about 10 µs each: for a few, or for tests)."""
        return [self.household(i) for i in range(len(self))]

    def records(self) -> list[str]:
        """The plain record of every row, in row order (what the store seals)."""
        members = self.members.tolist()
        masks = self.tags.tolist()
        return [record_json(a, h, p, m, _TAGS_OF[t]) for a, h, p, m, t
                in zip(self.address, self.head, self.phone, members, masks, strict=True)]

    def summary(self) -> dict[str, Any]:
        """The figures ``HouseholdBase.summary`` gives for a stored base, from the columns."""
        counts = np.bincount(self.tags, minlength=_MASKS)
        by_tag = {t.value: int(counts[[m for m in range(_MASKS) if m & _BIT[t]]].sum())
                  for t in TAGS}
        return summary_figures(
            households=len(self), micro_grids=len({micro_of(i) for i in self.ids}),
            buildings=len({building_of(i) for i in self.ids}), by_tag=by_tag,
            priority=int(np.count_nonzero(self.tags)))

    def per_micro(self) -> dict[str, int]:
        return dict(Counter(micro_of(i) for i in self.ids))


def summary_figures(*, households: int, micro_grids: int, buildings: int,
                    by_tag: dict[str, int], priority: int) -> dict[str, Any]:
    """One shape for the stored base's figures and the demo base's."""
    return {"households": households, "micro_grids": micro_grids, "buildings": buildings,
            "priority_households": priority,
            "by_tag": {t.value: by_tag.get(t.value, 0) for t in TAGS}}
