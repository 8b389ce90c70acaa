"""The demo's grid-worker sign-in: one worker of the synthetic roster a visitor plays in person.

:data:`DEMO_WORKER` is the first worker of the demo roster (seed 20220921) who leads a
micro-grid and is a party member: 曹东, micro-grid leader of 春盛院落1栋 in Pitong Subdistrict,
the district seat. Leading a micro-grid puts them on the escalation path, and being a party
member lets them claim wishes from the wish wall. The worker simulator leaves this worker
alone, so whatever happens to their tasks is the visitor's doing.

Like the other demo accounts its password is public, so it is marked as a demo account and
signs in to ``grid-dispatch demo`` only.
"""

from __future__ import annotations

import logging

from dispatch.access.credentials import Auth
from dispatch.access.roles import Role
from dispatch.access.scope import Reach, Scope
from dispatch.store.workers import WorkerStore
from geo.grids import GridSet

log = logging.getLogger(__name__)

DEMO_WORKER = "w00001"
DEMO_WORKER_PASSWORD = "pidu-worker"


def ensure_demo_worker(auth: Auth, workers: WorkerStore, *, grids: GridSet
                       ) -> tuple[str, str, str] | None:
    """Create the demo worker's account when missing: the worker id as the user name, the
    worker's name shown, and the worker's own micro, general and total grid as scope. Returns
    (name, role, password) for the printed logins, or ``None`` when the roster has no such
    worker (a site's own roster)."""
    worker = workers.get(DEMO_WORKER)
    if worker is None or worker.grid not in grids:
        log.info("no demo worker account: %s is not on the roster", DEMO_WORKER)
        return None
    if any(u["name"] == DEMO_WORKER for u in auth.users()):
        auth.mark_demo(DEMO_WORKER, password=DEMO_WORKER_PASSWORD)  # a changed password stays
    else:
        codes = frozenset(ref.code for ref in grids.chain(worker.grid))
        auth.add_user(DEMO_WORKER, role=Role.WORKER, password=DEMO_WORKER_PASSWORD,
                      display=worker.name, scope=Scope(Reach.GRIDS, codes), demo=True)
    return DEMO_WORKER, Role.WORKER.value, DEMO_WORKER_PASSWORD
