"""Who can act: the roles of the centre and the actor every change is recorded under."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from dispatch.access.scope import DISTRICT, Scope


class Role(StrEnum):
    OPERATOR = "operator"
    LEADER = "leader"
    COORDINATOR = "coordinator"
    ADMIN = "admin"
    WORKER = "worker"
    DEVICE = "device"
    INTEGRATION = "integration"
    RESIDENT = "resident"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever asks or acts: a signed-in user, a token's holder, or the system itself."""

    name: str
    role: Role
    scope: Scope = DISTRICT
