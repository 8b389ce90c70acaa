"""Demo sign-ins, one per page role, created when absent so a visitor can look around.

Their passwords are printed by ``grid-dispatch demo`` and written in the README, so they are
marked as demo accounts and sign in to the demo only: ``serve`` and ``http`` refuse them as if
the password were wrong, and say at startup which ones are still stored.
"""

from __future__ import annotations

import logging

from dispatch.access.credentials import Auth
from dispatch.access.roles import Role

log = logging.getLogger(__name__)

DEMO_USERS = (
    ("operator", Role.OPERATOR, "pidu-operator", "调度员 王敏"),
    ("leader", Role.LEADER, "pidu-leader", "领导 李强"),
    ("coordinator", Role.COORDINATOR, "pidu-drills", "演练指挥 张洁"),
    ("admin", Role.ADMIN, "pidu-admin", "管理员"),
)


def ensure_demo_users(auth: Auth) -> list[tuple[str, str, str]]:
    """Create the demo accounts that are missing, marked as demo accounts."""
    existing = {u["name"] for u in auth.users()}
    for name, role, password, display in DEMO_USERS:
        if name not in existing:
            auth.add_user(name, role=role, password=password, display=display, demo=True)
        else:
            auth.mark_demo(name, password=password)
    return [(name, role.value, password) for name, role, password, _ in DEMO_USERS]


def demo_accounts(auth: Auth) -> list[str]:
    """Stored demo accounts, including those an older demo made before accounts were marked
    (recognised by their public password, and marked now)."""
    marked = set(auth.demo_accounts())
    for name, _role, password, _display in DEMO_USERS:
        if name not in marked and auth.mark_demo(name, password=password):
            marked.add(name)
    return sorted(marked)


def warn_about_demo_accounts(auth: Auth) -> list[str]:
    """Outside the demo: name the demo accounts found (they cannot sign in here) and how to
    remove them. Returns their names."""
    found = demo_accounts(auth)
    if found:
        log.warning("demo account(s) %s found: their passwords are public, so they cannot "
                    "sign in outside `grid-dispatch demo`; remove them with %s",
                    ", ".join(found),
                    "; ".join(f"`grid-dispatch users remove {name}`" for name in found))
    return found


def warn_about_demo_accounts_at(redis_url: str) -> list[str]:
    """The same for a process that holds no runtime (``grid-dispatch http``'s launcher). Only
    advice: every worker refuses demo accounts whether or not this could look."""
    from dispatch.store import Store, StoreError

    store = Store.from_url(redis_url)
    try:
        return warn_about_demo_accounts(Auth(store.auth))
    except StoreError as exc:
        log.warning("could not look for demo accounts: %s", exc)
        return []
    finally:
        store.close()
