"""Shared test helpers (not fixtures): a real app on the session's Redis."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role


@contextmanager
def running_app(redis_url: str, *, cache_dir: Path, data_dir: Path, name: str,
                roles: Iterable[Role]) -> Iterator[tuple]:
    """(Flask test client, runtime, {role: bearer token}); the runtime closes afterwards."""
    runtime = open_runtime(Settings(redis_url=redis_url, cache_dir=cache_dir,
                                    data_dir=data_dir), warm=False)
    try:
        app = create_app(runtime=runtime)
        tokens = {role: runtime.auth.create_token(name=f"{name}-{role.value}", role=role)
                  for role in roles}
        yield app.server.test_client(), runtime, tokens
    finally:
        runtime.close()


def vault():
    """A vault with the session's data key (tests/conftest.py sets it for every runtime)."""
    import os

    from dispatch.privacy.vault import Vault

    return Vault([os.environ["GRID_DISPATCH_DATA_KEY"]])


def privacy(store, clock) -> dict:
    """What an EventService needs besides its store: the vault and an audit log."""
    from dispatch.privacy.audit import AuditLog
    from dispatch.store.audit import AuditStore

    return {"vault": vault(), "audit": AuditLog(store=AuditStore.of(store), clock=clock)}
