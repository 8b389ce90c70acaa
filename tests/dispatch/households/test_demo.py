"""The demo resident base: every micro-grid's households, in buildings, at plausible rates."""

from __future__ import annotations

import re
import time
from collections import Counter

import numpy as np
import pytest

from dispatch.households import demo
from dispatch.households.demo import (
    BUILDING_SIZE,
    TAG_RATES,
    demo_households,
    demo_table,
    generate,
)
from dispatch.households.models import HOUSEHOLD_ID, SpecialTag, building_of, micro_of
from dispatch.households.table import TAGS, tags_of
from geo.grids import GridSet
from geo.model import Tier

SEED = 20220921
ADDRESS = re.compile(r"^(\d{1,2})栋([1-3])单元(\d{1,2})(0[1-4])$")


@pytest.fixture(scope="module")
def table(demo_grids, cache_dir):
    return demo_table(cache_dir, demo_grids, seed=SEED)


def test_each_micro_grid_has_the_households_the_grid_set_gives_it(table, demo_grids):
    micro = demo_grids.tier(Tier.MICRO)
    expected = dict(zip(micro["code"], micro["households"].astype(int), strict=True))
    assert len(table) == sum(expected.values()) == 642_571
    assert table.per_micro() == expected


def test_ids_are_valid_and_numbered_from_one_in_every_building(table):
    assert all(HOUSEHOLD_ID.match(i) for i in table.ids)
    assert len(set(table.ids)) == len(table)
    per_building = Counter(building_of(i) for i in table.ids)
    lo, hi = BUILDING_SIZE
    assert lo <= min(per_building.values()) and max(per_building.values()) <= hi
    by_micro: dict[str, list[int]] = {}
    for building in per_building:
        by_micro.setdefault(micro_of(building), []).append(int(building[-2:]))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in by_micro.values())
    numbers = Counter()
    for i in table.ids:  # numbers run 001… in each building, in order
        numbers[building_of(i)] += 1
        assert int(i[-3:]) == numbers[building_of(i)]


def test_addresses_name_the_building_unit_floor_and_flat(table):
    for household_id, address in zip(table.ids[::97], table.address[::97], strict=True):
        found = ADDRESS.match(address)
        assert found, address
        assert int(found[1]) == int(building_of(household_id)[-2:])


def test_phones_never_ring_a_real_number_and_names_look_chinese(table):
    assert all(len(p) == 11 and p.startswith("100") and p.isdigit() for p in table.phone)
    assert len(set(table.phone)) == len(table)
    assert all(2 <= len(h) <= 4 for h in table.head)
    assert any(h.startswith("欧阳") for h in table.head)


def test_members_and_tags_come_at_plausible_rates(table):
    assert table.members.min() == 1 and table.members.max() == 6
    assert 2.40 <= table.members.mean() <= 2.58
    n = len(table)
    masks = table.tags.astype(int)
    for bit, tag in enumerate(TAGS):
        share = np.count_nonzero(masks & (1 << bit)) / n
        assert TAG_RATES[tag] * 0.85 <= share <= TAG_RATES[tag] * 1.15, (tag, share)
    counts = np.array([len(tags_of(m)) for m in range(64)])[masks]
    assert counts.max() == 2 and np.count_nonzero(counts == 2) > 0
    alone = masks & 1 << TAGS.index(SpecialTag.ELDERLY_ALONE) > 0
    assert (table.members[alone] == 1).all()
    family = masks & (1 << TAGS.index(SpecialTag.PREGNANT)
                      | 1 << TAGS.index(SpecialTag.LEFT_BEHIND_CHILD)) > 0
    assert (table.members[family] >= 2).all()
    figures = table.summary()
    assert 0.09 <= figures["priority_households"] / n <= 0.13
    assert figures["micro_grids"] == 5965


def test_the_same_seed_gives_the_same_base_and_the_cache_reads_back_whole(table, demo_grids):
    started = time.perf_counter()
    again = generate(demo_grids, seed=SEED)
    assert time.perf_counter() - started < 10  # about a second on two cores
    assert again.ids == table.ids and again.head == table.head
    assert again.address == table.address and again.phone == table.phone
    assert (again.members == table.members).all() and (again.tags == table.tags).all()
    other = generate(demo_grids, seed=SEED + 1)
    assert other.per_micro() == table.per_micro()  # how many follows the grid set
    assert other.head != table.head and other.phone != table.phone


def _small(demo_grids) -> GridSet:
    """Three micro-grids of the demo grid set and their parents: a grid set of its own."""
    frame = demo_grids.frame
    micro = frame[frame["tier"] == Tier.MICRO.value].iloc[:3]
    general = set(micro["parent_code"])
    parents = frame[frame["code"].isin(general)]
    totals = frame[frame["code"].isin(set(parents["parent_code"]))]
    keep = frame[frame["code"].isin(set(micro["code"]) | general | set(totals["code"]))]
    return GridSet.from_frame(keep, synthetic=True, source="test")


def test_a_cache_file_that_does_not_read_back_is_built_again(demo_grids, tmp_path):
    small = _small(demo_grids)
    first = demo_table(tmp_path, small, seed=1)
    path = demo.base_path(tmp_path, small, seed=1)
    path.write_bytes(b"not gzip")
    assert demo_table(tmp_path, small, seed=1).ids == first.ids
    assert demo_table(tmp_path, small, seed=1).head == first.head


def test_the_models_are_the_rows(demo_grids, tmp_path):
    small = _small(demo_grids)
    households = demo_households(tmp_path, small, seed=1)
    table = demo_table(tmp_path, small, seed=1)
    assert [h.id for h in households] == table.ids
    assert [h.members for h in households] == table.members.tolist()
    assert all(h.phone.startswith("100") for h in households)
