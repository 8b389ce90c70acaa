"""Reading a household CSV: ids in file order per building, every problem named at once."""

from __future__ import annotations

import pytest

from dispatch.households.importer import HouseholdImportError, read_households
from dispatch.households.models import SpecialTag
from geo.model import Tier

HEADER = "micro,building,address,head,phone,members,tags"


@pytest.fixture(scope="module")
def codes(demo_grids):
    micro = demo_grids.tier(Tier.MICRO)["code"]
    general = demo_grids.tier(Tier.GENERAL)["code"].iloc[0]
    return {"M1": micro.iloc[0], "M2": micro.iloc[1], "G": general}


def _csv(rows: list[str], header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _problems(data: bytes, grids) -> list[tuple[int, str]]:
    with pytest.raises(HouseholdImportError) as caught:
        read_households(data, grids=grids)
    return [(p.line, p.field) for p in caught.value.problems]


def test_households_are_numbered_in_file_order_within_their_building(demo_grids, codes):
    m1, m2 = codes["M1"], codes["M2"]
    rows = [f"{m1},3,3栋1单元101,张三,10012345678,2,",
            f"{m1},3,3栋1单元102,欧阳娜娜,,1,独居老人;low_income",
            f"{m2},3,3栋1单元101,李四,10012345679,4,孕产妇；残疾人",
            f"{m1},12,12栋2单元1501,王五,10012345670,3, disabled ; disabled "]
    found = read_households(_csv(rows), grids=demo_grids)
    assert [h.id for h in found] == [f"{m1}-03-001", f"{m1}-03-002", f"{m2}-03-001",
                                     f"{m1}-12-001"]
    assert found[1].tags == (SpecialTag.ELDERLY_ALONE, SpecialTag.LOW_INCOME)
    assert found[1].phone == "" and found[1].members == 1
    assert found[2].tags == (SpecialTag.PREGNANT, SpecialTag.DISABLED)
    assert found[3].tags == (SpecialTag.DISABLED,)


def test_columns_come_in_any_order_and_gbk_or_a_bom_read_the_same(demo_grids, codes):
    rows = [f"10012345678,张三,2,3栋1单元101,{codes['M1']},3"]
    header = "phone,head,members,address,micro,building"
    data = _csv(rows, header)
    (one,) = read_households(data, grids=demo_grids)
    assert one.id == f"{codes['M1']}-03-001" and one.tags == ()
    text = data.decode()
    assert read_households(text.encode("utf-8-sig"), grids=demo_grids) == [one]
    assert read_households(text.encode("gbk"), grids=demo_grids) == [one]


def test_every_problem_is_named_by_line_and_field_at_once(demo_grids, codes):
    m1 = codes["M1"]
    rows = [f"{m1},1,1栋1单元101,张三,10012345678,2,",             # 2: fine
            "51011799999999999,1,1栋1单元102,李四,,2,",            # 3: unknown micro-grid
            f"{codes['G']},1,1栋1单元103,王五,,2,",                 # 4: a general grid
            f"{m1},1,1栋1单元104,赵六,12345,2,",                    # 5: bad phone
            f"{m1},1,1栋1单元105,钱七,,2,独居老人;astronaut",       # 6: unknown tag
            f"{m1},0,1栋1单元106,孙八,,2,",                         # 7: building 0
            f"{m1},100,1栋1单元107,周九,,2,",                       # 8: building 100
            f"{m1},1,1栋1单元108,,,2,",                             # 9: empty name
            f"{m1},1,1栋1单元109,吴十,,0,",                         # 10: no members
            f"{m1},1,,郑一,,2,",                                    # 11: empty address
            f"{m1},1,1栋1单元101,张三,,3,",                         # 12: line 2 again
            f"{m1},1,1栋1单元110,冯二,,2,,extra"]                   # 13: a cell too many
    problems = _problems(_csv(rows), demo_grids)
    assert problems == [(3, "micro"), (4, "micro"), (5, "phone"), (6, "tags"),
                        (7, "building"), (8, "building"), (9, "head"), (10, "members"),
                        (11, "address"), (12, "address"), (13, "row")]
    with pytest.raises(HouseholdImportError) as caught:
        read_households(_csv(rows), grids=demo_grids)
    said = [str(p) for p in caught.value.problems]
    assert said[0] == ("line 3, micro: is not a micro-grid of this grid set "
                       "(got '51011799999999999')")
    assert said[1].startswith("line 4, micro: is a general grid, not a micro-grid")
    assert said[3].startswith("line 6, tags: unknown tag; one of elderly_alone (独居老人), ")
    assert said[3].endswith("(got 'astronaut')")
    assert said[9] == ("line 12, address: is the same household as line 2 (same micro-grid, "
                       "building, address and householder) (got '1栋1单元101')")


def test_a_missing_column_is_named_in_the_header(demo_grids, codes):
    data = _csv([f"{codes['M1']},1,张三"], "micro,building,head,colour")
    assert _problems(data, demo_grids) == [(1, "header")] * 3
    with pytest.raises(HouseholdImportError) as caught:
        read_households(data, grids=demo_grids)
    assert {p.message.split(";")[0] for p in caught.value.problems} == {
        "unknown column", "missing column address", "missing column members"}


def test_a_building_of_more_than_999_households_is_named_once(demo_grids, codes):
    rows = [f"{codes['M1']},7,7栋{k},户主{k},,1," for k in range(1001)]
    with pytest.raises(HouseholdImportError) as caught:
        read_households(_csv(rows), grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (1001, "building")
    assert "has more than 999 households" in problem.message


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"\n\n", "is empty"),
    (HEADER.encode() + b"\n", "holds no households"),
    (b"\x00\x01", "is not a CSV text file"),
])
def test_a_file_with_nothing_to_load_says_so(demo_grids, data, message):
    with pytest.raises(HouseholdImportError) as caught:
        read_households(data, grids=demo_grids)
    assert caught.value.problems[0].message == message
