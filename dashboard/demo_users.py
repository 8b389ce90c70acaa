"""Demo sign-ins, one per page role, created when absent so a visitor can look around."""

from __future__ import annotations

from dispatch.access.credentials import Auth
from dispatch.access.roles import Role

DEMO_USERS = (
    ("operator", Role.OPERATOR, "pidu-operator", "调度员 王敏"),
    ("leader", Role.LEADER, "pidu-leader", "领导 李强"),
    ("coordinator", Role.COORDINATOR, "pidu-drills", "演练指挥 张洁"),
    ("admin", Role.ADMIN, "pidu-admin", "管理员"),
)


def ensure_demo_users(auth: Auth) -> list[tuple[str, str, str]]:
    for name, role, password, display in DEMO_USERS:
        if auth.user(name) is None:
            auth.add_user(name, role=role, password=password, display=display)
    return [(name, role.value, password) for name, role, password, _ in DEMO_USERS]
