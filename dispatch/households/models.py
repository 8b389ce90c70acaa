"""A household as the resident base knows it, and the special-population tags a sweep ranks by.

A household's id says where it is: ``<micro-grid code>-<building 2 digits>-<number 3 digits>``
(``51011700700101003-04-017``), and its building's id is the first two parts. Name, phone,
address and tags are personal data: stored sealed (see ``dispatch.privacy.vault``), shown
masked. Whether a household has any tag at all is kept in the clear, as an id in the
micro-grid's priority set, so a sweep can list those first without opening every record.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MICRO = r"\d{17}"
HOUSEHOLD_ID = re.compile(rf"^({MICRO})-(\d{{2}})-(\d{{3}})$")
BUILDING_ID = re.compile(rf"^({MICRO})-(\d{{2}})$")


class SpecialTag(StrEnum):
    """Special populations (重点人群), reached first in a sweep."""

    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    DISABLED = "disabled"  # 残疾人
    PREGNANT = "pregnant"  # 孕产妇
    LEFT_BEHIND_CHILD = "left_behind_child"  # 留守儿童
    LOW_INCOME = "low_income"  # 低保户
    SUPERVISED = "supervised"  # 社区矫正人员

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {SpecialTag.ELDERLY_ALONE: "独居老人", SpecialTag.DISABLED: "残疾人",
           SpecialTag.PREGNANT: "孕产妇", SpecialTag.LEFT_BEHIND_CHILD: "留守儿童",
           SpecialTag.LOW_INCOME: "低保户", SpecialTag.SUPERVISED: "社区矫正"}


class Household(BaseModel):
    """One household. ``id`` carries the micro-grid and building; the rest is its record."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=HOUSEHOLD_ID.pattern)
    address: str = Field(min_length=1, max_length=60, description="e.g. 3栋2单元501")
    head: str = Field(min_length=1, max_length=30, description="the householder's name")
    phone: str = Field(default="", pattern=r"^(1\d{10})?$")
    members: int = Field(default=1, ge=1, le=30)
    tags: tuple[SpecialTag, ...] = ()

    @property
    def micro(self) -> str:
        return self.id[:17]

    @property
    def building(self) -> str:
        return self.id[:20]


def micro_of(household_id: str) -> str:
    return household_id[:17]


def building_of(household_id: str) -> str:
    return household_id[:20]


def household_id(micro: str, building: int, number: int) -> str:
    return f"{micro}-{building:02d}-{number:03d}"
