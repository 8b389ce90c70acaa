"""The household base in a real Redis: sealed records, priority sets, counts, reloads."""

from __future__ import annotations

import pytest

from dispatch.households.models import Household, SpecialTag, household_id
from dispatch.households.table import SEALED_FIELD, HouseholdTable, parse_record
from dispatch.privacy.vault import is_sealed
from dispatch.store import keys
from dispatch.store.households import DuplicateHouseholdError, HouseholdStore
from tests.support import vault

A, B, C = "51011700100101001", "51011700100101002", "51011700100101003"


def _household(micro: str, building: int, number: int, *tags: SpecialTag,
               head: str = "张三") -> Household:
    return Household(id=household_id(micro, building, number), address=f"{building}栋1单元101",
                     head=head, phone="10012345678", members=2, tags=tags)


def _base() -> list[Household]:
    return [_household(A, 1, 1), _household(A, 1, 2, SpecialTag.DISABLED),
            _household(A, 2, 1), _household(B, 1, 1, SpecialTag.PREGNANT, SpecialTag.LOW_INCOME),
            _household(B, 1, 2)]


@pytest.fixture
def households(own_store):
    return HouseholdStore.of(own_store)


def test_a_base_round_trips_sealed_one_value_a_household(households, own_store):
    v = vault()
    assert households.version() == "0"
    assert households.replace_all(_base(), vault=v) == 5
    assert households.count() == 5 and households.counts() == {A: 3, B: 2}
    assert households.ids(A) == [f"{A}-01-001", f"{A}-01-002", f"{A}-02-001"]
    assert households.ids_in_building(f"{A}-01") == [f"{A}-01-001", f"{A}-01-002"]
    assert households.buildings(A) == {f"{A}-01": 2, f"{A}-02": 1}
    assert households.priority(A) == {f"{A}-01-002"}
    assert households.priority_many([A, B, C]) == {A: {f"{A}-01-002"}, B: {f"{B}-01-001"},
                                                   C: set()}
    assert households.priority_counts([A, B, C]) == {A: 1, B: 1, C: 0}
    assert households.count_in([A, C]) == 3
    stored = own_store._r.hgetall(keys.households(A))
    assert len(stored) == 3 and all(is_sealed(value) for value in stored.values())
    records = households.records([f"{B}-01-001", f"{C}-01-001"])
    assert list(records) == [f"{B}-01-001"]
    opened = parse_record(f"{B}-01-001", v.open(SEALED_FIELD, records[f"{B}-01-001"]))
    assert opened == _base()[3]
    assert households.exists_many([f"{A}-02-001", f"{A}-02-002", f"{C}-01-001"]) == [
        True, False, False]
    assert households.version() == "1"


def test_a_reload_clears_the_micro_grids_no_longer_present(households, own_store):
    households.replace_all(_base(), vault=vault())
    households.replace_all([_household(B, 5, 1, SpecialTag.SUPERVISED),
                            _household(C, 1, 1)], vault=vault())
    assert households.counts() == {B: 1, C: 1}
    assert households.ids(A) == [] and households.priority(A) == set()
    assert households.ids(B) == [f"{B}-05-001"]  # the micro-grid replaced whole
    assert households.priority(B) == {f"{B}-05-001"}
    assert not own_store._r.exists(keys.households(A), keys.households_priority(A))
    households.replace_all([], vault=vault())
    assert households.count() == 0 and households.version() == "3"
    assert not own_store._r.exists(keys.households(B), keys.households(C))


def test_a_repeated_id_stores_nothing(households):
    households.replace_all(_base(), vault=vault())
    with pytest.raises(DuplicateHouseholdError) as caught:
        households.replace_all([_household(C, 1, 1), _household(C, 1, 1, head="李四")],
                               vault=vault())
    assert caught.value.household_id == f"{C}-01-001"
    assert households.counts() == {A: 3, B: 2} and households.version() == "1"


def test_a_large_base_loads_in_chunks(households):
    micros = [f"510117001001{k:05d}" for k in range(300)]
    rows = [_household(m, b, n) for m in micros for b in (1, 2) for n in range(1, 41)]
    table = HouseholdTable.of(rows)
    assert households.replace_all(table, vault=vault()) == 24_000
    assert households.count() == 24_000 and len(households.counts()) == 300
    assert set(households.buildings_many(micros[:2])) == set(micros[:2])
