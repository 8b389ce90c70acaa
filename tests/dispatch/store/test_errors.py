"""The store's errors, and the outage wording every channel uses, live beside the store."""

from __future__ import annotations

import redis

import dispatch.store
from dispatch.store import errors


def test_the_store_error_is_one_class_wherever_it_is_imported():
    from dispatch.store.core import StoreError

    assert dispatch.store.StoreError is errors.StoreError is StoreError


def test_an_outage_is_the_store_error_or_the_clients():
    assert (errors.StoreError, redis.RedisError) == errors.OUTAGE_ERRORS


def test_the_cause_is_read_through_the_chain():
    try:
        try:
            raise redis.TimeoutError("read timed out at 10.0.0.5:6379")
        except redis.TimeoutError as exc:
            raise errors.StoreError("could not store 1 event(s)") from exc
    except errors.StoreError as exc:
        assert errors.outage_message(exc) == "data service unavailable (redis timed out), retry"
    assert errors.outage_cause(errors.StoreError("x")) == "redis error"


def test_the_app_answers_with_the_same_wording():
    from dashboard import app, live

    assert app.OUTAGE_ERRORS is errors.OUTAGE_ERRORS
    assert app.outage_cause is errors.outage_cause and app.outage_message is errors.outage_message
    assert live.OUTAGE_ERRORS is errors.OUTAGE_ERRORS
