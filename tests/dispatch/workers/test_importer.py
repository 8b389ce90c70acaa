"""Reading a roster CSV: UTF-8 and GBK alike, every problem named by line and field, all at once."""

from __future__ import annotations

import pytest
import shapely

from dispatch.workers import importer
from dispatch.workers.importer import RosterImportError, read_roster
from dispatch.workers.models import DutyStatus, LeaderTier, WorkerRole
from geo.model import Tier

HEADER = "id,name,phone,role,grid,party_member,leads,leader_tier,skills,duty,home_lon,home_lat"


@pytest.fixture(scope="module")
def codes(demo_grids):
    """A total grid T, two of its general grids G and G2, micro-grids M1, M2 in G and M3 in
    G2, and a micro-grid X under another total grid."""
    micro = demo_grids.tier(Tier.MICRO)
    general = demo_grids.tier(Tier.GENERAL)
    total = demo_grids.tier(Tier.TOTAL)["code"].iloc[0]
    g, g2 = general[general["parent_code"] == total]["code"].iloc[:2]
    m1, m2 = micro[micro["parent_code"] == g]["code"].iloc[:2]
    m3 = micro[micro["parent_code"] == g2]["code"].iloc[0]
    x = micro[~micro["code"].str.startswith(total[:12])]["code"].iloc[0]
    return {"T": total, "G": g, "G2": g2, "M1": m1, "M2": m2, "M3": m3, "X": x}


def _rows(codes) -> list[str]:
    c = codes
    return [
        f"w1,王书记,10000000001,community_staff,{c['M1']},是,{c['T']},total,01;02,on_duty,,",
        f"w2,李网格,10000000002,grid_worker,{c['M2']},0,{c['G']},general,,busy,,",
        f"w3,张楼栋,10000000003,resident_activist,{c['M1']},true,{c['M1']},micro,05,,,",
        f"w4,赵志愿,10000000004,volunteer,{c['M3']},否,,,,on_leave,,",
    ]


def _csv(rows: list[str], header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _problems(data: bytes, grids) -> set[tuple[int, str]]:
    with pytest.raises(RosterImportError) as caught:
        read_roster(data, grids=grids)
    return {(p.line, p.field) for p in caught.value.problems}


def test_a_valid_file_loads_the_same_from_utf8_with_or_without_bom_and_from_gbk(
        demo_grids, codes):
    text = _csv(_rows(codes))
    utf8 = read_roster(text.encode("utf-8"), grids=demo_grids)
    assert utf8 == read_roster(text.encode("utf-8-sig"), grids=demo_grids)
    assert utf8 == read_roster(text.encode("gbk"), grids=demo_grids)
    assert [w.id for w in utf8] == ["w1", "w2", "w3", "w4"]
    w1, w2, w3, w4 = utf8
    assert (w1.name, w1.role, w1.party_member, w1.leads, w1.leader_tier, w1.skills, w1.duty) == (
        "王书记", WorkerRole.COMMUNITY_STAFF, True, codes["T"], LeaderTier.TOTAL, ("01", "02"),
        DutyStatus.ON_DUTY)
    assert w3.leader_tier is LeaderTier.MICRO and w3.party_member
    assert w4.duty is DutyStatus.ON_LEAVE and not w4.party_member and w4.leader_tier is None
    assert w2.duty is DutyStatus.BUSY


def test_an_empty_duty_is_off_and_an_empty_home_is_inside_the_micro_grid(demo_grids, codes):
    workers = read_roster(_csv(_rows(codes)).encode(), grids=demo_grids)
    w3 = workers[2]
    assert w3.duty is DutyStatus.OFF
    home = shapely.Point(w3.home_lon, w3.home_lat)
    assert demo_grids.geometry(codes["M1"]).contains(home)


def test_a_given_home_is_kept(demo_grids, codes):
    point = shapely.point_on_surface(demo_grids.geometry(codes["M3"]))
    row = f"w9,钱,10000000009,volunteer,{codes['M3']},0,,,,,{point.x!r},{point.y!r}"
    (worker,) = read_roster(_csv([row]).encode(), grids=demo_grids)
    assert (worker.home_lon, worker.home_lat) == (point.x, point.y)


def test_columns_may_come_in_any_order(demo_grids, codes):
    header = "grid,role,phone,name,id"
    (worker,) = read_roster(_csv([f"{codes['M1']},volunteer,10000000001,甲,a1"], header)
                            .encode(), grids=demo_grids)
    assert (worker.id, worker.grid, worker.duty) == ("a1", codes["M1"], DutyStatus.OFF)


@pytest.mark.parametrize(("row", "field"), [
    ("v1,甲,10000000001,volunteer,99999999999999999,0,,,,,,", "grid"),
    ("v1,甲,10000000001,volunteer,{G},0,,,,,,", "grid"),
    ("v1,甲,12345,volunteer,{M1},0,,,,,,", "phone"),
    ("v1,甲,10000000001,astronaut,{M1},0,,,,,,", "role"),
    ("v1,甲,10000000001,volunteer,{M1},maybe,,,,,,", "party_member"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,asleep,,", "duty"),
    ("v1,甲,10000000001,community_staff,{M1},0,,total,,,,", "leads"),
    ("v1,甲,10000000001,community_staff,{M1},0,{T},,,,,", "leader_tier"),
    ("v1,甲,10000000001,community_staff,{M1},0,{T},mayor,,,,", "leader_tier"),
    ("v1,甲,10000000001,community_staff,{M1},0,{G},total,,,,", "leads"),
    ("v1,甲,10000000001,grid_worker,{M1},0,{G2},general,,,,", "leads"),
    ("v1,甲,10000000001,resident_activist,{M1},0,{X},micro,,,,", "leads"),
    ("v1,甲,10000000001,volunteer,{M1},0,{M1},micro,,,,", "role"),
    ("v1,甲,10000000001,grid_worker,{M1},0,{T},total,,,,", "role"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,0,0", "home_lon,home_lat"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,nan,30.8", "home_lon"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,103.9,", "home_lat"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,east,30.8", "home_lon"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,200,30.8", "home_lon"),
    ("v1,{long},10000000001,volunteer,{M1},0,,,,,,", "name"),
    ("v1,,10000000001,volunteer,{M1},0,,,,,,", "name"),
    ("v 1,甲,10000000001,volunteer,{M1},0,,,,,,", "id"),
    (",甲,10000000001,volunteer,{M1},0,,,,,,", "id"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,1;abc,,,", "skills"),
    ("v1,甲,10000000001,volunteer,{M1},0,,,,,,,extra", "row"),
])
def test_each_problem_is_named_by_its_line_and_field(demo_grids, codes, row, field):
    good = _rows(codes)[3]
    text = _csv([good, row.format(long="长" * 31, **codes)])
    with pytest.raises(RosterImportError) as caught:
        read_roster(text.encode(), grids=demo_grids)
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, field)], \
        caught.value.problems


def test_a_problem_says_what_the_cell_held(demo_grids, codes):
    text = _csv([f"v1,甲,12345,volunteer,{codes['M1']},0,,,,,,"])
    with pytest.raises(RosterImportError) as caught:
        read_roster(text.encode(), grids=demo_grids)
    (problem,) = caught.value.problems
    assert problem.value == "12345"
    assert str(problem) == "line 2, phone: must be 11 digits starting with 1 (got '12345')"


def test_every_problem_of_the_file_is_raised_at_once(demo_grids, codes):
    rows = [*_rows(codes),
            f"w5,甲,123,volunteer,{codes['M1']},x,,,,,,",
            "w6,乙,10000000006,astronaut,99,0,,,,,,"]
    assert _problems(_csv(rows).encode(), demo_grids) == {
        (6, "phone"), (6, "party_member"), (7, "role"), (7, "grid")}


def test_a_duplicate_id_names_both_lines(demo_grids, codes):
    rows = [*_rows(codes), f"w2,又一个,10000000009,volunteer,{codes['M3']},0,,,,,,"]
    with pytest.raises(RosterImportError) as caught:
        read_roster(_csv(rows).encode(), grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.value) == (6, "id", "w2")
    assert "line 3" in problem.message and "line 6" in problem.message


def test_two_leaders_of_one_grid_name_both_lines(demo_grids, codes):
    rows = [*_rows(codes),
            f"w5,另一书记,10000000005,community_staff,{codes['M2']},1,{codes['T']},total,,,,"]
    with pytest.raises(RosterImportError) as caught:
        read_roster(_csv(rows).encode(), grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field, problem.value) == (6, "leads", codes["T"])
    assert "line 2" in problem.message and "line 6" in problem.message


def test_unknown_and_missing_columns_are_named(demo_grids, codes):
    header = "id,name,mobile,role,grid,colour"
    with pytest.raises(RosterImportError) as caught:
        read_roster(_csv([f"a,甲,1,volunteer,{codes['M1']},red"], header).encode(),
                    grids=demo_grids)
    found = {(p.line, p.field, p.value) for p in caught.value.problems}
    assert found == {(1, "header", "mobile"), (1, "header", "colour"), (1, "header", "")}
    assert any("missing column phone" in p.message for p in caught.value.problems)


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"\n \n", "is empty"),
    (HEADER.encode() + b"\n", "holds no workers"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a CSV text file"),
    (b"id,name\n\xff\xff\xff\n", "is neither UTF-8 nor GBK text"),
])
def test_a_file_that_is_no_roster_says_so(demo_grids, data, message):
    with pytest.raises(RosterImportError) as caught:
        read_roster(data, grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.field, problem.message) == ("file", message)


def test_a_broken_csv_names_its_line(demo_grids, codes):
    text = _csv([_rows(codes)[3], 'v2,"甲,10000000001'])
    text = text.replace("\n", "\r\n").encode()
    with pytest.raises(RosterImportError) as caught:
        read_roster(text + b"x" * 200_000, grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (3, "csv")


def test_more_rows_than_the_limit_are_refused(demo_grids, codes, monkeypatch):
    monkeypatch.setattr(importer, "MAX_ROWS", 3)
    rows = [f"v{i},甲,10000000001,volunteer,{codes['M3']},0,,,,,," for i in range(5)]
    with pytest.raises(RosterImportError) as caught:
        read_roster(_csv(rows).encode(), grids=demo_grids)
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (5, "file")
    assert "more than 3 workers" in problem.message
