"""What a store failure raises, and how an outage is told to the people who meet it."""

from __future__ import annotations

import redis


class StoreError(RuntimeError):
    """Redis could not be reached or refused the operation."""


#: What a Redis outage raises: the store's own error, or the client's (refused, reset, timed
#: out, or LOADING while a restarted server replays its AOF).
OUTAGE_ERRORS: tuple[type[Exception], ...] = (StoreError, redis.RedisError)


def outage_cause(exc: BaseException) -> str:
    """What failed, in words fit for anyone to read (no addresses, no internals)."""
    err: BaseException | None = exc
    while err is not None:
        if isinstance(err, redis.BusyLoadingError):
            return "redis is loading its data"
        if isinstance(err, redis.TimeoutError):
            return "redis timed out"
        if isinstance(err, redis.ConnectionError):
            return "redis unreachable"
        if isinstance(err, redis.RedisError):
            return "redis refused the operation"
        err = err.__cause__
    return "redis error"


def outage_message(exc: BaseException) -> str:
    """The sentence every channel answers an outage with: the cause, and that retrying helps."""
    return f"data service unavailable ({outage_cause(exc)}), retry"
