"""Reading the change stream: tail it (blocking), replay a range, know its ends."""

from __future__ import annotations

import redis

from dispatch.store.core import Entry, as_entries, as_stream_reads
from dispatch.store.keys import CHANGES


class ChangeReader:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def head(self) -> str:
        """The id of the newest change ("0-0" for an empty stream)."""
        last = as_entries(self._r.xrevrange(CHANGES, count=1))
        return last[0][0] if last else "0-0"

    def oldest(self) -> str | None:
        first = as_entries(self._r.xrange(CHANGES, count=1))
        return first[0][0] if first else None

    def after(self, seq: str, *, count: int = 10_000) -> list[Entry]:
        """Changes strictly after ``seq``, oldest first."""
        return as_entries(self._r.xrange(CHANGES, f"({seq}", "+", count=count))

    def wait(self, seq: str, *, block_ms: int, count: int = 5000) -> list[Entry]:
        """Block until changes after ``seq`` arrive (or the timeout); oldest first."""
        got = as_stream_reads(self._r.xread({CHANGES: seq}, block=block_ms, count=count))
        return got[0][1] if got else []

    def held(self, seq: str) -> bool:
        """Whether every change after ``seq`` is still in the stream (nothing trimmed).

        Only provable while ``seq`` itself (or something older) is still there.
        """
        if seq in ("", "0", "0-0"):
            return False
        oldest = self.oldest()
        return oldest is None or _key(oldest) <= _key(seq)


def _key(sid: str) -> tuple[int, int]:
    ms, _, n = sid.partition("-")
    return int(ms), int(n or 0)
