"""The roster in Redis: replaced whole in one transaction, read by id, by grid and by leader."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner

from dashboard.cli import main
from dispatch.events.models import ChangeKind
from dispatch.store.workers import DuplicateWorkerError, WorkerStore
from dispatch.workers.models import LeaderTier, Worker, WorkerRole
from geo.model import Tier


@pytest.fixture(scope="module")
def micro(demo_grids) -> list[str]:
    return demo_grids.tier(Tier.MICRO)["code"].tolist()


@pytest.fixture
def workers(store) -> WorkerStore:
    return WorkerStore.of(store)


def _worker(worker_id: str, grid: str, *, name: str = "甲", role=WorkerRole.VOLUNTEER,
            leads: str = "", tier: LeaderTier | None = None) -> Worker:
    return Worker(id=worker_id, name=name, phone="10000000001", role=role, grid=grid,
                  leads=leads, leader_tier=tier, skills=("01", "05"), party_member=True,
                  home_lon=103.9, home_lat=30.8)


def _roster(micro: list[str], *, name: str, size: int = 40) -> list[Worker]:
    out = [_worker(f"w{i}", micro[i % 4], name=name) for i in range(size)]
    out[0] = _worker("w0", micro[0], name=name, role=WorkerRole.RESIDENT_ACTIVIST,
                     leads=micro[0], tier=LeaderTier.MICRO)
    return out


def test_a_roster_is_read_back_by_id_grid_and_leader(workers, store, micro):
    roster = _roster(micro, name="甲")
    assert workers.replace_all(roster, actor="ops", role="admin") == 40
    assert workers.count() == 40
    assert workers.get("w5") == roster[5]
    assert workers.get("nobody") is None
    assert workers.many(["w3", "nobody", "w1"]) == [roster[3], roster[1]]
    in_first = workers.in_grid(micro[0])
    assert [w.id for w in in_first] == sorted(w.id for w in roster if w.grid == micro[0])
    assert workers.leader_of(micro[0]) == roster[0]
    assert workers.leader_of(micro[1]) is None
    change = store.changes(count=1)[0]
    assert (change["kind"], change["actor"], change["role"], change["count"]) == (
        ChangeKind.WORKERS_LOADED.value, "ops", "admin", "40")
    assert change["details"] == {"count": 40, "professional": 0, "mobilised": 40}


def test_a_new_roster_leaves_nothing_of_the_old(workers, micro):
    workers.replace_all(_roster(micro, name="甲"), actor="ops", role="admin")
    smaller = [_worker("n1", micro[5])]
    workers.replace_all(smaller, actor="ops", role="admin")
    assert workers.count() == 1
    assert workers.get("w1") is None
    assert workers.in_grid(micro[0]) == []
    assert workers.leader_of(micro[0]) is None
    assert workers.in_grid(micro[5]) == smaller


def test_a_duplicate_id_stores_nothing(workers, micro):
    before = _roster(micro, name="甲")
    workers.replace_all(before, actor="ops", role="admin")
    with pytest.raises(DuplicateWorkerError) as caught:
        workers.replace_all([_worker("x", micro[0]), _worker("x", micro[1])], actor="ops",
                            role="admin")
    assert caught.value.worker_id == "x"
    assert workers.count() == 40 and workers.get("w1") == before[1]


def test_a_reader_never_sees_a_mix_of_two_rosters(workers, micro):
    first, second = _roster(micro, name="甲"), _roster(micro, name="乙", size=60)
    workers.replace_all(first, actor="ops", role="admin")
    seen: list[set[str]] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.append({w.name for w in workers.in_grid(micro[1])})
            seen.append({w.name for w in workers.many([f"w{i}" for i in range(40)])})

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(30):
            workers.replace_all(second if i % 2 else first, actor="ops", role="admin")
    finally:
        stop.set()
        reader.join()
    assert seen and all(len(names) == 1 for names in seen), [n for n in seen if len(n) != 1]


def test_the_whole_district_roster_loads_in_one_go(workers, micro):
    roster = [_worker(f"p{i}", micro[i % len(micro)]) for i in range(7461)]
    workers.replace_all(roster, actor="ops", role="admin")
    assert workers.count() == 7461
    assert {w.id for w in workers.in_grid(micro[0])} >= {"p0"}


# --- the command ---------------------------------------------------------------------------

HEADER = "id,name,phone,role,grid,party_member,leads,leader_tier,skills,duty,home_lon,home_lat"


def _file(tmp_path, rows: list[str], *, encoding: str = "utf-8"):
    path = tmp_path / "roster.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode(encoding))
    return path


def test_the_command_loads_a_roster(tmp_path, redis_server, store, micro):
    rows = [f"c1,王,10000000001,grid_worker,{micro[0]},0,,,,,,",
            f"c2,李,10000000002,volunteer,{micro[1]},是,,,,,,"]
    result = CliRunner().invoke(main, ["workers", "import", str(_file(tmp_path, rows, encoding=
                                       "gbk"))], env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "2 workers loaded (1 professional, 1 mobilised)"
    assert WorkerStore.of(store).count() == 2


def test_the_command_names_every_problem_and_stores_nothing(tmp_path, redis_server, store,
                                                           micro):
    roster = WorkerStore.of(store)
    roster.replace_all(_roster(micro, name="甲"), actor="ops", role="admin")
    rows = [f"c1,王,123,grid_worker,{micro[0]},0,,,,,,",
            f"c2,李,10000000002,astronaut,{micro[1]},是,,,,,,"]
    result = CliRunner().invoke(main, ["workers", "import", str(_file(tmp_path, rows))],
                                env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "line 2, phone: must be 11 digits starting with 1 (got '123')",
        "line 3, role: unknown role; one of community_staff, grid_worker, group_leader, "
        "party_member, resident_activist, property_staff, volunteer (got 'astronaut')"]
    assert roster.count() == 40 and roster.get("c1") is None


def test_a_dry_run_stores_nothing(tmp_path, redis_server, store, micro):
    roster = WorkerStore.of(store)
    roster.replace_all(_roster(micro, name="甲"), actor="ops", role="admin")
    rows = [f"c1,王,10000000001,grid_worker,{micro[0]},0,,,,,,"]
    result = CliRunner().invoke(main, ["workers", "import", str(_file(tmp_path, rows)),
                                       "--dry-run"], env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 0, result.output
    assert "1 workers would be loaded" in result.stdout
    assert roster.count() == 40
