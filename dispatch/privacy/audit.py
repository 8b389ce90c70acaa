"""The audit log: every read of personal data, every reveal and every export, with why.

An entry names the actor, their role, the action, its target (an event id, a file) and a
reason where one is asked for; it never holds the personal data itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from dispatch.access.roles import Actor
from dispatch.events.workflow import Clock
from dispatch.store.audit import AuditStore

#: A reader's repeated reads of one event within this many seconds are one entry.
READ_WINDOW_S = 300


class AuditAction(StrEnum):
    READ = "personal.read"  # an event shown with its address and contacts (masked)
    LIST = "personal.list"  # a list of events shown with their addresses
    REVEAL = "personal.reveal"  # a masked phone or name shown in full
    EXPORT = "audit.export"  # the audit trail itself written out
    ACCOUNT = "account.change"  # a user or token added, disabled, removed or revoked


class RevealReason(StrEnum):
    """Why a number is shown in full: the few purposes an operator may give."""

    CALL_BACK = "call_back"  # 回访: the resident's call-back that closes a case
    VERIFY = "verify"  # 核实: checking a report with the reporter
    EMERGENCY = "emergency"  # 紧急联系: reaching someone in danger


class AuditLog:
    def __init__(self, *, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def record(self, action: AuditAction, *, actor: Actor | None, target: str,
               field: str = "", reason: str = "", note: str = "", count: int = 0) -> str:
        entry = {"action": action.value, "at": f"{self._clock.now():.3f}",
                 "actor": actor.name if actor else "anonymous",
                 "role": actor.role.value if actor else "", "target": target,
                 "field": field, "reason": reason, "note": note[:200],
                 "count": str(count) if count else ""}
        return self._store.append({k: v for k, v in entry.items() if v})

    def read(self, *, actor: Actor | None, target: str) -> None:
        """One event's personal data shown: recorded once per reader per window."""
        name = actor.name if actor else "anonymous"
        if self._store.first_in(actor=name, action=AuditAction.READ.value, target=target,
                                window_s=READ_WINDOW_S):
            self.record(AuditAction.READ, actor=actor, target=target)

    def export(self, *, since: float = 0.0, until: float | None = None,
               changes: bool = True) -> Iterator[dict[str, Any]]:
        """The trail in time order: audit entries, then (merged) the change stream's."""
        rows = [self._row("audit", sid, f) for sid, f in self._read(since, until, False)]
        if changes:
            rows += [self._row("changes", sid, f) for sid, f in self._read(since, until, True)]
        rows.sort(key=lambda r: (r["at"], r["seq"]))
        yield from rows

    def _read(self, since: float, until: float | None,
              changes: bool) -> Iterator[tuple[str, dict[str, str]]]:
        start, end = str(int(since * 1000)), "+" if until is None else str(int(until * 1000))
        while batch := self._store.entries(start=start, end=end, changes=changes):
            yield from batch
            start = "(" + batch[-1][0]

    @staticmethod
    def _row(stream: str, sid: str, fields: dict[str, str]) -> dict[str, Any]:
        action = fields.get("action") or fields.get("kind", "")
        target = fields.get("target") or fields.get("id") or fields.get("device") \
            or fields.get("token", "")
        return {"seq": sid, "stream": stream, "at": float(fields.get("at") or 0),
                "actor": fields.get("actor", ""), "role": fields.get("role", ""),
                "action": action, "target": target, "field": fields.get("field", ""),
                "reason": fields.get("reason", ""),
                "change": _change(fields), "count": fields.get("count", "")}


def _change(fields: dict[str, str]) -> str:
    if "before" in fields or "after" in fields:
        return f"{fields.get('before', '')}→{fields.get('after', '')}"
    return ""
