"""The demo worker's sign-in: the roster's worker as a worker account held to their own grids,
a demo account like the others."""

from __future__ import annotations

import pytest

from dashboard.demo_worker import DEMO_WORKER, DEMO_WORKER_PASSWORD, ensure_demo_worker
from dispatch.access.credentials import Auth, AuthError
from dispatch.access.roles import Role
from dispatch.access.scope import Reach
from dispatch.store.workers import WorkerStore
from dispatch.workers.models import LeaderTier, Worker, WorkerRole
from geo.model import Tier


@pytest.fixture
def store(own_store):
    """A Redis of this test's own: demo accounts must not show up in other tests' lists."""
    return own_store


def _roster(store, micro: str) -> WorkerStore:
    workers = WorkerStore.of(store)
    workers.replace_all([Worker(
        id=DEMO_WORKER, name="曹东", phone="10012345678", role=WorkerRole.PARTY_MEMBER,
        grid=micro, party_member=True, leads=micro, leader_tier=LeaderTier.MICRO,
        home_lon=103.89, home_lat=30.82)], actor="t", role="admin")
    return workers


def test_the_demo_worker_signs_in_as_themselves_in_the_demo_only(store, demo_grids):
    micro = str(demo_grids.tier(Tier.MICRO)["code"].iloc[0])
    demo = Auth(store.auth, demo_mode=True)
    found = ensure_demo_worker(demo, _roster(store, micro), grids=demo_grids)
    assert found == (DEMO_WORKER, "worker", DEMO_WORKER_PASSWORD)
    actor = demo.check_password(DEMO_WORKER, DEMO_WORKER_PASSWORD)
    assert actor.role is Role.WORKER and actor.name == DEMO_WORKER
    assert actor.scope.reach is Reach.GRIDS
    assert actor.scope.codes == {ref.code for ref in demo_grids.chain(micro)}
    assert len(actor.scope.codes) == 3
    user = next(u for u in demo.users() if u["name"] == DEMO_WORKER)
    assert user["display"] == "曹东"
    assert DEMO_WORKER in demo.demo_accounts()
    with pytest.raises(AuthError):
        Auth(store.auth).check_password(DEMO_WORKER, DEMO_WORKER_PASSWORD)


def test_a_changed_password_is_kept_and_no_roster_worker_means_no_account(store, demo_grids):
    micro = str(demo_grids.tier(Tier.MICRO)["code"].iloc[0])
    auth = Auth(store.auth, demo_mode=True)
    assert ensure_demo_worker(auth, WorkerStore.of(store), grids=demo_grids) is None
    assert all(u["name"] != DEMO_WORKER for u in auth.users())
    workers = _roster(store, micro)
    ensure_demo_worker(auth, workers, grids=demo_grids)
    auth.add_user(DEMO_WORKER, role=Role.WORKER, password="a-site-secret")
    ensure_demo_worker(auth, workers, grids=demo_grids)
    assert auth.check_password(DEMO_WORKER, "a-site-secret").name == DEMO_WORKER
    assert DEMO_WORKER not in auth.demo_accounts()
