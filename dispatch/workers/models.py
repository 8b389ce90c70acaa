"""A grid worker as the centre knows them: kind, role, the grid they lead, skills, duty.

The figures the roster must reproduce (Pidu District): 7,461 grid workers, 3,779 professional
(community full-time staff, full-time grid workers, residents' group leaders) and 3,682
mobilised (party members, resident activists, property-company staff, volunteers); three tiers
of leaders bound to their grids (party secretary → total grid, community worker → general
grid, resident activist or party member → micro-grid).
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.events.models import Latitude, Longitude

#: The seed figures (DOMAIN.md): a roster generated for the demo has exactly these.
TOTAL_WORKERS = 7461
PROFESSIONAL_WORKERS = 3779
MOBILISED_WORKERS = 3682


class WorkerKind(StrEnum):
    PROFESSIONAL = "professional"  # 专职
    MOBILISED = "mobilised"  # 兼职 / 动员


class WorkerRole(StrEnum):
    """What a worker is in their community; each belongs to one kind."""

    COMMUNITY_STAFF = "community_staff"  # 社区专职工作者 (party secretaries among them)
    GRID_WORKER = "grid_worker"  # 专职网格员
    GROUP_LEADER = "group_leader"  # 居民小组长
    PARTY_MEMBER = "party_member"  # 党员
    RESIDENT_ACTIVIST = "resident_activist"  # 楼栋长、热心居民
    PROPERTY_STAFF = "property_staff"  # 物业人员
    VOLUNTEER = "volunteer"  # 志愿者

    @property
    def kind(self) -> WorkerKind:
        return WorkerKind.PROFESSIONAL if self in _PROFESSIONAL else WorkerKind.MOBILISED

    @property
    def label(self) -> str:
        return _LABELS[self]


_PROFESSIONAL = frozenset({WorkerRole.COMMUNITY_STAFF, WorkerRole.GRID_WORKER,
                           WorkerRole.GROUP_LEADER})
_LABELS = {WorkerRole.COMMUNITY_STAFF: "社区专职工作者", WorkerRole.GRID_WORKER: "专职网格员",
           WorkerRole.GROUP_LEADER: "居民小组长", WorkerRole.PARTY_MEMBER: "党员",
           WorkerRole.RESIDENT_ACTIVIST: "热心居民", WorkerRole.PROPERTY_STAFF: "物业人员",
           WorkerRole.VOLUNTEER: "志愿者"}


class LeaderTier(StrEnum):
    """The grid a leader answers for: 总网格长, 一般网格长, 微网格长."""

    TOTAL = "total"  # the community's party secretary
    GENERAL = "general"  # a community worker
    MICRO = "micro"  # a resident activist or a party member


#: Who may lead each tier (the roster and the import check it).
LEADER_ROLES: dict[LeaderTier, frozenset[WorkerRole]] = {
    LeaderTier.TOTAL: frozenset({WorkerRole.COMMUNITY_STAFF}),
    LeaderTier.GENERAL: frozenset({WorkerRole.COMMUNITY_STAFF, WorkerRole.GRID_WORKER}),
    LeaderTier.MICRO: frozenset({WorkerRole.RESIDENT_ACTIVIST, WorkerRole.PARTY_MEMBER,
                                 WorkerRole.GROUP_LEADER}),
}


class DutyStatus(StrEnum):
    ON_DUTY = "on_duty"  # 在岗
    BUSY = "busy"  # 忙碌 (on a task)
    OFF = "off"  # 下班
    ON_LEAVE = "on_leave"  # 请假

    @property
    def available(self) -> bool:
        return self is DutyStatus.ON_DUTY


#: A roster file's columns (``workers import``; the demo roster's cache is such a file), named
#: exactly so in its header, in any order.
COLUMNS = ("id", "name", "phone", "role", "grid", "party_member", "leads", "leader_tier",
           "skills", "duty", "home_lon", "home_lat")

#: A worker's phone: 11 digits. Demo rosters use the 100 prefix, which no Chinese mobile has,
#: so a synthetic number can never ring a real person.
PHONE = re.compile(r"^1\d{10}$")
WORKER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class Worker(BaseModel):
    """One grid worker; ``grid`` is the micro-grid they live and work in."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: str = Field(pattern=WORKER_ID.pattern)
    name: str = Field(min_length=1, max_length=30)
    phone: str = Field(pattern=PHONE.pattern)
    role: WorkerRole
    grid: str = Field(pattern=r"^\d{17}$", description="the micro-grid code")
    party_member: bool = False
    leads: str = Field(default="", description="the grid code this worker leads, if any")
    leader_tier: LeaderTier | None = None
    skills: tuple[str, ...] = Field(default=(), max_length=10,
                                    description="2-digit event class codes")
    duty: DutyStatus = DutyStatus.OFF
    home_lon: Longitude
    home_lat: Latitude

    @property
    def kind(self) -> WorkerKind:
        return self.role.kind

    @field_validator("skills")
    @classmethod
    def _skills(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if not re.fullmatch(r"\d{2}", s)]
        if bad:
            raise ValueError(f"skills must be 2-digit event class codes, got {bad}")
        return value
