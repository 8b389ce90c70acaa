"""The synthetic demo roster: 7,461 grid workers placed in the grid set, with leaders and shifts.

Every figure comes from the seed figures in ``models`` (3,779 professional, 3,682 mobilised),
so the demo shows the district's real team size on synthetic geometry.

Where people live: workers are spread over the micro-grids in proportion to households
(largest remainder), so each ``grid`` is a micro-grid code and the home is a random point
inside it.

Leaders:

* each total grid: one community staff member (the community's party secretary, a party
  member) living in one of its micro-grids;
* each general grid: one community worker (community staff or full-time grid worker) living
  in one of its micro-grids;
* micro-grids: one resident activist, party member or residents' group leader who lives there,
  each leading at most one micro-grid. The figures hold fewer such people (4,350) than there
  are micro-grids (5,965), so they go to the micro-grids with the most households first; the
  smallest micro-grids have no micro-grid leader and are looked after by their general grid's
  leader. ``summary`` counts and lists them.

Duty: the file carries no live state, so the stored ``duty`` is OFF; ``duty_at`` derives the
status at any moment from each worker's shift (see ``shift_of``). BUSY comes from tasks, never
from the shift plan.
"""

from __future__ import annotations

import csv
import os
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from dispatch.workers.models import (
    COLUMNS,
    MOBILISED_WORKERS,
    PROFESSIONAL_WORKERS,
    TOTAL_WORKERS,
    DutyStatus,
    LeaderTier,
    Worker,
    WorkerKind,
    WorkerRole,
)
from geo.catalog import file_lock
from geo.grids import GridSet
from geo.model import Tier
from geo.partition import largest_remainder

#: Bump when the generator changes, so cached rosters are rebuilt.
ROSTER_VERSION = 1

#: Chengdu local time (China keeps no daylight saving, so a fixed offset is exact).
LOCAL_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")

#: How many of each role the demo has; professional and mobilised sums are the seed figures.
#: About seven community staff per community, a full-time grid worker for every general grid
#: plus reliefs, and residents' group leaders for the rest of the professional team.
ROLE_COUNTS: dict[WorkerRole, int] = {
    WorkerRole.COMMUNITY_STAFF: 1029,
    WorkerRole.GRID_WORKER: 900,
    WorkerRole.GROUP_LEADER: 1850,
    WorkerRole.PARTY_MEMBER: 1100,
    WorkerRole.RESIDENT_ACTIVIST: 1400,
    WorkerRole.PROPERTY_STAFF: 600,
    WorkerRole.VOLUNTEER: 582,
}
if (sum(n for r, n in ROLE_COUNTS.items() if r.kind is WorkerKind.PROFESSIONAL)
        != PROFESSIONAL_WORKERS
        or sum(n for r, n in ROLE_COUNTS.items() if r.kind is WorkerKind.MOBILISED)
        != MOBILISED_WORKERS):
    raise RuntimeError("ROLE_COUNTS must add up to the seed figures")

#: Share of community staff among general-grid leaders (the rest are full-time grid workers).
GENERAL_LEADER_STAFF_SHARE = 0.3
#: Share of party members among workers whose role does not make them one.
PARTY_SHARE = {WorkerKind.PROFESSIONAL: 0.30, WorkerKind.MOBILISED: 0.10}

#: Event classes (categories.csv) each role is plausibly good at; a worker gets 1–3 of them.
SKILLS: dict[WorkerRole, tuple[str, ...]] = {
    WorkerRole.COMMUNITY_STAFF: ("10", "13", "14", "16"),
    WorkerRole.GRID_WORKER: ("01", "05", "06", "11", "12", "20"),
    WorkerRole.GROUP_LEADER: ("01", "10", "13", "14"),
    WorkerRole.PARTY_MEMBER: ("10", "13", "14", "16"),
    WorkerRole.RESIDENT_ACTIVIST: ("01", "10", "11", "13", "15"),
    WorkerRole.PROPERTY_STAFF: ("01", "06", "11", "20"),
    WorkerRole.VOLUNTEER: ("01", "13", "14", "15", "16"),
}

_MICRO_ELIGIBLE = (WorkerRole.GROUP_LEADER, WorkerRole.PARTY_MEMBER, WorkerRole.RESIDENT_ACTIVIST)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
            "顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红玉萍鹏辉玲宇浩凯健俊帆帅"
         "旭宁丹欣怡婷雪琳晨阳佳雨欢蓉琴燕梅莉林斌波鑫飞彬勤蕾嘉瑶晓东海文志成")

#: Phone prefix no Chinese mobile has: a synthetic number never rings a real person.
PHONE_PREFIX = "100"


def generate(grids: GridSet, *, seed: int) -> list[Worker]:
    """The demo roster for ``grids``: the same grids and seed give the same list."""
    rng = np.random.default_rng([seed, ROSTER_VERSION])
    micro = grids.tier(Tier.MICRO)
    codes = micro["code"].to_numpy(dtype=str)
    households = micro["households"].to_numpy(dtype=float)
    parents = micro["parent_code"].to_numpy(dtype=str)
    general = grids.tier(Tier.GENERAL)
    general_parent = dict(zip(general["code"], general["parent_code"], strict=True))
    totals = grids.tier(Tier.TOTAL)["code"].tolist()
    n_micro = len(codes)

    counts = largest_remainder(TOTAL_WORKERS, households)
    free = counts.copy()
    grid_of: list[int] = []
    roles: list[WorkerRole] = []
    leads: list[str] = []
    tiers: list[LeaderTier | None] = []
    secretary: list[bool] = []

    def place(i: int, role: WorkerRole, lead: str, tier: LeaderTier | None) -> None:
        free[i] -= 1
        grid_of.append(i)
        roles.append(role)
        leads.append(lead)
        tiers.append(tier)
        secretary.append(tier is LeaderTier.TOTAL)

    by_general: dict[str, list[int]] = {}
    for i, parent in enumerate(parents):
        by_general.setdefault(str(parent), []).append(i)
    by_total: dict[str, list[int]] = {}
    for code, members in by_general.items():
        by_total.setdefault(general_parent[code], []).extend(members)

    for code in sorted(by_general):
        i = _pick(by_general[code], free, rng, code)
        staff = rng.random() < GENERAL_LEADER_STAFF_SHARE
        role = WorkerRole.COMMUNITY_STAFF if staff else WorkerRole.GRID_WORKER
        place(i, role, code, LeaderTier.GENERAL)
    for code in totals:
        i = _pick(by_total.get(code, []), free, rng, code)
        place(i, WorkerRole.COMMUNITY_STAFF, code, LeaderTier.TOTAL)

    left = Counter(ROLE_COUNTS)
    left.subtract(roles)
    if any(n < 0 for n in left.values()):
        raise ValueError("the grid set has more total and general grids than the roster has "
                         "community workers to lead them")
    eligible = sum(left[r] for r in _MICRO_ELIGIBLE)
    open_grids = np.flatnonzero(free > 0)
    open_grids = open_grids[np.lexsort((codes[open_grids], -households[open_grids]))]
    led = open_grids[:eligible]
    pool = [r for r in _MICRO_ELIGIBLE for _ in range(left[r])]
    for g, role in zip(led, rng.permutation(np.array(pool, dtype=object)), strict=False):
        place(int(g), role, str(codes[g]), LeaderTier.MICRO)
        left[role] -= 1

    led_mask = np.zeros(n_micro, dtype=bool)
    led_mask[led] = True
    slots = np.repeat(np.arange(n_micro), np.maximum(free, 0))
    slots = slots[np.lexsort((rng.random(len(slots)), ~led_mask[slots]))]
    rest = np.array([r for r in ROLE_COUNTS for _ in range(left[r])], dtype=object)
    rest_eligible = np.array([r in _MICRO_ELIGIBLE for r in rest], dtype=bool)
    rest = rest[np.lexsort((rng.random(len(rest)), ~rest_eligible))]
    for slot, role in zip(slots, rest, strict=True):
        place(int(slot), role, "", None)

    order = np.lexsort((np.arange(len(grid_of)), np.array(grid_of)))
    grid_idx = np.array(grid_of)[order]
    lon, lat = _homes(micro.geometry.to_numpy()[grid_idx], rng)
    names = _names(len(order), rng)
    phones = rng.choice(10**8, size=len(order), replace=False)
    party_draw = rng.random(len(order))
    skill_draw = rng.random((len(order), 1 + max(map(len, SKILLS.values()))))

    out = []
    for n, k in enumerate(order):
        role = roles[k]
        party = (secretary[k] or role is WorkerRole.PARTY_MEMBER
                 or bool(party_draw[n] < PARTY_SHARE[role.kind]))
        out.append(Worker(
            id=f"w{n + 1:05d}", name=names[n], phone=f"{PHONE_PREFIX}{phones[n]:08d}",
            role=role, grid=str(codes[grid_idx[n]]), party_member=party, leads=leads[k],
            leader_tier=tiers[k], skills=_skills(role, skill_draw[n]), duty=DutyStatus.OFF,
            home_lon=float(lon[n]), home_lat=float(lat[n])))
    return out


def _pick(members: Sequence[int], free: NDArray[np.int64], rng: np.random.Generator,
          code: str) -> int:
    """A micro-grid of ``members`` with room for one more worker, likelier where more live."""
    room = np.array([max(int(free[i]), 0) for i in members], dtype=float)
    if not len(room) or room.sum() == 0:
        raise ValueError(f"grid {code} has no micro-grid with a worker left to lead it")
    return int(members[int(rng.choice(len(room), p=room / room.sum()))])


def _homes(polygons: NDArray[Any],
           rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A uniform point inside each polygon, to 1e-6 degrees (0.1 m) and still inside."""
    shapely.prepare(polygons)
    bounds = shapely.bounds(polygons)
    lon = np.empty(len(polygons))
    lat = np.empty(len(polygons))
    todo = np.arange(len(polygons))
    while len(todo):
        b = bounds[todo]
        x = np.round(rng.uniform(b[:, 0], b[:, 2]), 6)
        y = np.round(rng.uniform(b[:, 1], b[:, 3]), 6)
        inside = shapely.contains_xy(polygons[todo], x, y)
        lon[todo[inside]] = x[inside]
        lat[todo[inside]] = y[inside]
        todo = todo[~inside]
    return lon, lat


def _names(n: int, rng: np.random.Generator) -> list[str]:
    surnames = rng.integers(len(SURNAMES), size=n)
    first = rng.integers(len(GIVEN), size=n)
    second = rng.integers(len(GIVEN), size=n)
    double = rng.random(n) < 0.7
    return [SURNAMES[s] + GIVEN[a] + (GIVEN[b] if d else "")
            for s, a, b, d in zip(surnames, first, second, double, strict=True)]


def _skills(role: WorkerRole, draw: NDArray[np.float64]) -> tuple[str, ...]:
    pool = SKILLS[role]
    k = 1 + int(draw[0] * 3)
    ranked = np.argsort(draw[1:1 + len(pool)], kind="stable")
    return tuple(sorted(pool[j] for j in ranked[:k]))


# --- shifts -------------------------------------------------------------------------------

DAY_SHIFT = (time(8, 30), time(17, 30))
EVENING = (time(18, 30), time(21, 30))
WEEKEND_DAY = (time(9, 0), time(17, 30))
#: Share of professionals on leave on any date.
LEAVE_SHARE = 0.05
#: A professional covers one weekend in this many (the community's weekend rota).
WEEKEND_ROTA = 4


@dataclass(frozen=True, slots=True)
class Shift:
    """When a worker is expected on duty; derived from the worker id alone."""

    weekday: tuple[time, time] | None
    weekday_days: frozenset[int]
    weekend: tuple[time, time] | None
    weekend_rota: int | None
    takes_leave: bool


def _hash(*parts: object) -> int:
    return zlib.crc32(":".join(map(str, parts)).encode())


def shift_of(worker: Worker) -> Shift:
    """Professionals: weekday day shift 08:30–17:30 and one weekend in four. Mobilised:
    two weekday evenings 18:30–21:30 and weekend days 09:00–17:30, as volunteers give time."""
    if worker.kind is WorkerKind.PROFESSIONAL:
        return Shift(weekday=DAY_SHIFT, weekday_days=frozenset(range(5)), weekend=DAY_SHIFT,
                     weekend_rota=_hash(worker.id, "rota") % WEEKEND_ROTA, takes_leave=True)
    first = _hash(worker.id, "evening") % 5
    return Shift(weekday=EVENING, weekday_days=frozenset({first, (first + 2) % 5}),
                 weekend=WEEKEND_DAY, weekend_rota=None, takes_leave=False)


def on_leave(worker: Worker, day: date) -> bool:
    """About 5% of professionals are on leave on a date, a different few each day."""
    chance = _hash(worker.id, day.isoformat()) % 100
    return shift_of(worker).takes_leave and chance < 100 * LEAVE_SHARE


def duty_at(worker: Worker, when: datetime) -> DutyStatus:
    """ON_DUTY, OFF or ON_LEAVE at ``when`` (naive means Chengdu local time) from the shift."""
    local = when.astimezone(LOCAL_TZ) if when.tzinfo else when
    day, clock = local.date(), local.time()
    if on_leave(worker, day):
        return DutyStatus.ON_LEAVE
    shift = shift_of(worker)
    weekday = day.weekday()
    if weekday < 5:
        window = shift.weekday if weekday in shift.weekday_days else None
    elif shift.weekend_rota is None or day.isocalendar().week % WEEKEND_ROTA == shift.weekend_rota:
        window = shift.weekend
    else:
        window = None
    if window and window[0] <= clock < window[1]:
        return DutyStatus.ON_DUTY
    return DutyStatus.OFF


# --- summary ------------------------------------------------------------------------------

def summary(workers: Sequence[Worker], grids: GridSet, *, at: datetime) -> dict[str, Any]:
    """Figures for the roster: totals, roles, leaders, duty at ``at``, grids left unled."""
    kinds = Counter(w.kind for w in workers)
    led: dict[LeaderTier, set[str]] = {t: set() for t in LeaderTier}
    for w in workers:
        if w.leader_tier is not None:
            led[w.leader_tier].add(w.leads)
    unled: dict[str, list[str]] = {}
    for tier in LeaderTier:
        codes = grids.tier(Tier(tier.value))["code"].tolist()
        unled[tier.value] = sorted(c for c in codes if c not in led[tier])
    return {
        "totals": {"workers": len(workers),
                   "professional": kinds[WorkerKind.PROFESSIONAL],
                   "mobilised": kinds[WorkerKind.MOBILISED]},
        "by_role": {r.value: sum(w.role is r for w in workers) for r in WorkerRole},
        "by_leader_tier": {t.value: sum(w.leader_tier is t for w in workers) for t in LeaderTier},
        "at": at.isoformat(),
        "by_duty": _duty_counts(workers, at),
        "party_members": sum(w.party_member for w in workers),
        "grids_without_leader": {t: len(codes) for t, codes in unled.items()},
        "first_micro_without_leader": unled[LeaderTier.MICRO.value][:10],
    }


def _duty_counts(workers: Iterable[Worker], at: datetime) -> dict[str, int]:
    counts = Counter(duty_at(w, at) for w in workers)
    return {d.value: counts[d] for d in DutyStatus}


# --- the cached demo file -----------------------------------------------------------------

def roster_path(cache_dir: Path, grids: GridSet, *, seed: int) -> Path:
    return Path(cache_dir) / f"demo-roster-v{ROSTER_VERSION}-{grids.digest}-seed{seed}.csv"


def demo_roster(cache_dir: Path, grids: GridSet, *, seed: int) -> list[Worker]:
    """The demo roster for ``grids``, built once into the cache and read back afterwards."""
    path = roster_path(cache_dir, grids, seed=seed)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(path.with_suffix(".lock")):
            if not path.exists():
                write_csv(generate(grids, seed=seed), path)
    return read_csv(path)


def write_csv(workers: Iterable[Worker], path: Path) -> None:
    """A ``workers import`` file (UTF-8), written whole or not at all."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            for w in workers:
                writer.writerow([w.id, w.name, w.phone, w.role.value, w.grid,
                                 int(w.party_member), w.leads,
                                 w.leader_tier.value if w.leader_tier else "",
                                 ";".join(w.skills), w.duty.value, repr(w.home_lon),
                                 repr(w.home_lat)])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_csv(path: Path) -> list[Worker]:
    """Workers from a file ``write_csv`` wrote (the cache; site files go through the importer)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return [Worker(
            id=row["id"], name=row["name"], phone=row["phone"], role=WorkerRole(row["role"]),
            grid=row["grid"], party_member=row["party_member"] == "1", leads=row["leads"],
            leader_tier=LeaderTier(row["leader_tier"]) if row["leader_tier"] else None,
            skills=tuple(s for s in row["skills"].split(";") if s),
            duty=DutyStatus(row["duty"]), home_lon=float(row["home_lon"]),
            home_lat=float(row["home_lat"])) for row in csv.DictReader(fh)]


