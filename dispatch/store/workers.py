"""The grid-worker roster in Redis: one hash per worker, the id set, and two indexes.

A roster is replaced whole (an import is all of a street office's file or nothing), in one
MULTI/EXEC with its ``workers.loaded`` entry in the change stream: a reader sees the old
roster or the new one, never a mix, and the audit trail says who loaded it. The indexes are a
set of worker ids per micro-grid (who can be sent there) and one hash of leaders by grid code,
holding the leader whole so the escalation path costs one read per tier.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence

import redis
from redis.client import Pipeline
from redis.typing import EncodableT, FieldT

from dispatch.events.models import ChangeKind
from dispatch.store import keys
from dispatch.store.core import Store, as_fields, as_hash, as_members
from dispatch.store.errors import StoreError
from dispatch.store.keys import (
    CHANGES,
    WORKER_GRIDS,
    WORKER_LEADERS,
    WORKERS,
    WORKERS_VERSION,
)
from dispatch.workers.models import Worker, WorkerKind

_CHUNK = 1000  # keys per UNLINK: one command stays short however large the old roster was


class DuplicateWorkerError(ValueError):
    """A roster names one worker id twice; nothing is stored."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(f"worker id {worker_id!r} is on the roster twice")
        self.worker_id = worker_id


class WorkerStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    @classmethod
    def of(cls, store: Store) -> WorkerStore:
        """The roster on the same connection pool as ``store`` (same package, same Redis)."""
        return cls(store._r)

    def replace_all(self, workers: Sequence[Worker], *, actor: str, role: str) -> int:
        """Make ``workers`` the whole roster at once; returns how many were stored."""
        seen: set[str] = set()
        by_grid: dict[str, list[str]] = defaultdict(list)
        leaders: dict[str, str] = {}
        for w in workers:
            if w.id in seen:
                raise DuplicateWorkerError(w.id)
            seen.add(w.id)
            by_grid[w.grid].append(w.id)
            if w.leads:
                leaders[w.leads] = w.model_dump_json()
        kinds = Counter(w.kind for w in workers)
        details = {"count": len(workers), "professional": kinds[WorkerKind.PROFESSIONAL],
                   "mobilised": kinds[WorkerKind.MOBILISED]}
        entry: dict[FieldT, EncodableT] = {
            "kind": ChangeKind.WORKERS_LOADED.value, "actor": actor, "role": role,
            "at": f"{time.time():.3f}", "count": len(workers),
            "details": json.dumps(details)}

        def write(pipe: Pipeline) -> None:
            old_ids = as_members(pipe.smembers(WORKERS))  # immediate: the keys are watched
            old_grids = as_members(pipe.smembers(WORKER_GRIDS))
            stale = ([keys.worker(i) for i in old_ids] + [keys.worker_grid(g) for g in old_grids]
                     + [WORKERS, WORKER_GRIDS, WORKER_LEADERS])
            pipe.multi()
            for start in range(0, len(stale), _CHUNK):
                pipe.unlink(*stale[start:start + _CHUNK])
            for w in workers:
                pipe.hset(keys.worker(w.id), mapping=as_fields(_fields(w)))
            if workers:
                pipe.sadd(WORKERS, *seen)
                pipe.sadd(WORKER_GRIDS, *by_grid)
            for grid, ids in by_grid.items():
                pipe.sadd(keys.worker_grid(grid), *ids)
            if leaders:
                pipe.hset(WORKER_LEADERS, mapping=as_fields(leaders))
            pipe.incr(WORKERS_VERSION)
            pipe.xadd(CHANGES, entry)

        try:
            self._r.transaction(write, WORKERS, WORKER_GRIDS)
        except redis.RedisError as exc:
            raise StoreError(f"could not load the roster of {len(workers)} workers: "
                             f"{exc}") from exc
        return len(workers)

    def get(self, worker_id: str) -> Worker | None:
        return _worker(as_hash(self._r.hgetall(keys.worker(worker_id))))

    def many(self, ids: Iterable[str]) -> list[Worker]:
        """The workers of ``ids`` that are on the roster, in the order asked, from one
        roster (read in one MULTI/EXEC)."""
        with self._r.pipeline(transaction=True) as pipe:
            for worker_id in ids:
                pipe.hgetall(keys.worker(worker_id))
            return [w for w in map(_worker, pipe.execute()) if w is not None]

    def in_grid(self, micro_code: str) -> list[Worker]:
        """The roster's workers of one micro-grid, by id; the index and the hashes are read
        under WATCH, so a reload in between makes the read start again."""
        index = keys.worker_grid(micro_code)
        with self._r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(index)
                    ids = sorted(as_members(pipe.smembers(index)))  # immediate while watching
                    pipe.multi()
                    for worker_id in ids:
                        pipe.hgetall(keys.worker(worker_id))
                    found = pipe.execute()
                    break
                except redis.WatchError:
                    continue
        return [w for w in map(_worker, found) if w is not None]

    def leader_of(self, grid_code: str) -> Worker | None:
        """Who leads this grid (any tier), in one read."""
        raw = self._r.hget(WORKER_LEADERS, grid_code)
        return Worker.model_validate_json(str(raw)) if raw is not None else None

    def all(self) -> list[Worker]:
        """The whole roster, by id."""
        return self.many(sorted(as_members(self._r.smembers(WORKERS))))

    def count(self) -> int:
        return int(self._r.scard(WORKERS))

    def version(self) -> str:
        """Changes with every roster load (caches compare it); "0" before the first."""
        try:
            return str(self._r.get(WORKERS_VERSION) or "0")
        except redis.RedisError as exc:
            raise StoreError(f"could not read the roster version: {exc}") from exc


def _fields(w: Worker) -> dict[str, str]:
    return {"id": w.id, "name": w.name, "phone": w.phone, "role": w.role.value,
            "grid": w.grid, "party_member": "1" if w.party_member else "0", "leads": w.leads,
            "leader_tier": w.leader_tier.value if w.leader_tier else "",
            "skills": ";".join(w.skills), "duty": w.duty.value,
            "home_lon": repr(w.home_lon), "home_lat": repr(w.home_lat)}


def _worker(fields: Mapping[str, str]) -> Worker | None:
    if not fields:
        return None
    return Worker.model_validate({
        **fields, "party_member": fields.get("party_member") == "1",
        "leader_tier": fields.get("leader_tier") or None,
        "skills": tuple(s for s in fields.get("skills", "").split(";") if s),
        "home_lon": float(fields["home_lon"]), "home_lat": float(fields["home_lat"])})
