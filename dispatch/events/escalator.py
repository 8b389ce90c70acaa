"""Overdue work climbs the tiers: one process at a time checks the clocks every few seconds."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field

from dispatch.events.service import EventService
from dispatch.store import Store
from dispatch.tasks.service import TaskService

log = logging.getLogger(__name__)


@dataclass
class Escalator:
    events: EventService
    store: Store  # holds the lease so only one process escalates
    tasks: TaskService | None = None  # tasks not accepted in time climb too
    interval_s: float = 5.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")

    def start(self) -> None:
        threading.Thread(target=self._run, name="escalator", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        ttl = int(self.interval_s * 3000)
        while not self._stop.wait(self.interval_s):
            try:
                if self.store.hold_lock("escalator", owner=self._owner, ttl_ms=ttl):
                    changed = self.events.escalate_overdue()
                    if changed:
                        log.info("escalated %d overdue event(s)", changed)
                    if self.tasks is not None and (moved := self.tasks.escalate_unaccepted()):
                        log.info("escalated %d task(s) not accepted in time", moved)
            except Exception:  # Redis may be restarting; try again next round
                log.exception("escalation round failed")
