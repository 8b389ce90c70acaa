"""The household base as the app uses it: masked views, the sweep's order, the figures."""

from __future__ import annotations

import pytest

from dispatch.households.base import HouseholdBase, UnknownHouseholdError, mask_head
from dispatch.households.demo import ensure_demo_households
from dispatch.households.models import Household, SpecialTag, household_id
from dispatch.store.households import HouseholdStore
from geo.grids import GridSet
from geo.model import Tier
from tests.support import vault

A, B = "51011700100101001", "51011700100101002"
T = SpecialTag


def _h(micro: str, building: int, number: int, *tags: SpecialTag, head: str = "张三",
       phone: str = "10012345678") -> Household:
    return Household(id=household_id(micro, building, number), address=f"{building}栋2单元501",
                     head=head, phone=phone, members=1 if T.ELDERLY_ALONE in tags else 3,
                     tags=tags)


@pytest.fixture
def base(own_store):
    found = HouseholdBase(store=HouseholdStore.of(own_store), vault=vault())
    found.load([
        _h(A, 1, 1), _h(A, 1, 2, T.LOW_INCOME, head="欧阳娜娜", phone="10055555678"),
        _h(A, 1, 3, T.ELDERLY_ALONE), _h(A, 2, 1, T.DISABLED, T.LOW_INCOME, head="王小明"),
        _h(A, 2, 2, T.DISABLED), _h(B, 1, 1, T.ELDERLY_ALONE, T.DISABLED, phone=""),
        _h(B, 1, 2, T.SUPERVISED), _h(B, 1, 3)])
    return found


def test_names_and_phones_are_masked_and_tags_are_labels(base):
    first, second = base.views([f"{A}-01-002", f"{A}-02-001"])
    assert first == {"id": f"{A}-01-002", "micro": A, "building": f"{A}-01",
                     "address": "1栋2单元501", "head": "欧阳**", "phone": "100****5678",
                     "members": 3, "tags": ["低保户"], "priority": True}
    assert second["head"] == "王**" and second["tags"] == ["残疾人", "低保户"]
    (shown,) = base.views([f"{A}-01-002"], reveal=True)
    assert (shown["head"], shown["phone"]) == ("欧阳娜娜", "10055555678")
    assert base.views([f"{A}-09-001", f"{A}-01-001"])[0]["head"] == "张*"  # unknown left out
    assert (mask_head("张三"), mask_head("欧阳娜"), mask_head("司马")) == ("张*", "欧阳*", "司*")


def test_a_record_opens_whole_and_an_unknown_id_is_named(base):
    record = base.record(f"{B}-01-001")
    assert record.tags == (T.ELDERLY_ALONE, T.DISABLED) and record.phone == ""
    with pytest.raises(UnknownHouseholdError) as caught:
        base.record(f"{B}-01-009")
    assert caught.value.household_id == f"{B}-01-009"


def test_priority_first_follows_the_order_and_leaves_out_those_reached(base):
    everyone = base.priority_first([A, B], reached=set(), limit=10)
    assert everyone == [f"{B}-01-001", f"{A}-01-003", f"{A}-02-001", f"{A}-02-002",
                        f"{A}-01-002", f"{B}-01-002"]
    flood = [T.DISABLED, T.ELDERLY_ALONE, T.PREGNANT, T.LEFT_BEHIND_CHILD, T.LOW_INCOME,
             T.SUPERVISED]
    assert base.priority_first([A, B], reached={f"{B}-01-001"}, limit=3, order=flood) == [
        f"{A}-02-001", f"{A}-02-002", f"{A}-01-003"]
    # a tag the order leaves out comes after every listed one
    assert base.priority_first([B], reached=set(), limit=5, order=[T.SUPERVISED]) == [
        f"{B}-01-002", f"{B}-01-001"]
    assert base.priority_first([A], reached=set(), limit=0) == []


def test_the_figures_count_households_buildings_and_tags(base):
    assert base.in_scope([A]) == 5 and base.in_scope([A, B, "51011700100101009"]) == 8
    figures = base.summary()
    assert figures == {"households": 8, "micro_grids": 2, "buildings": 3,
                       "priority_households": 6,
                       "by_tag": {"elderly_alone": 2, "disabled": 3, "pregnant": 0,
                                  "left_behind_child": 0, "low_income": 2, "supervised": 1}}


def test_the_demo_base_loads_once_into_an_empty_store(own_store, demo_grids, tmp_path):
    frame = demo_grids.frame
    micro = frame[frame["tier"] == Tier.MICRO.value].iloc[:4]
    keep = set(micro["code"]) | set(micro["parent_code"])
    keep |= set(frame[frame["code"].isin(keep)]["parent_code"])
    small = GridSet.from_frame(frame[frame["code"].isin(keep)], synthetic=True, source="test")
    store = HouseholdStore.of(own_store)
    loaded = ensure_demo_households(store, vault(), small, tmp_path, 7)
    assert loaded == int(micro["households"].sum()) == store.count()
    assert ensure_demo_households(store, vault(), small, tmp_path, 7) == 0
    base = HouseholdBase(store=store, vault=vault())
    figures = base.summary()
    assert figures["households"] == loaded and figures["micro_grids"] == 4
    ids = base.priority_first(list(micro["code"]), reached=set(), limit=1000)
    assert len(ids) == figures["priority_households"]
    assert all(base.record(i).tags for i in ids[:20])
