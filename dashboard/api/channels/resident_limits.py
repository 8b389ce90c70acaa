"""Rate limit for the public form: a few reports a minute from one connection, counted in Redis.

The form needs no sign-in, so this is what stops a script from flooding the dispatch queue.
Counts live in the app's Redis so every server process shares them; a moving window keeps a
burst from doubling at a window edge. IPv6 clients are counted per /64, the block one phone
or household is given, since a device can pick a fresh address inside it at will.
"""

from __future__ import annotations

import ipaddress
from functools import partial

from flask import Blueprint, Flask, request
from flask_limiter import Limiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from dispatch.store.keys import RESIDENT_LIMIT_PREFIX

#: Per client: enough for a family reporting a few things, too few for a flood.
POST_LIMITS = "5 per minute;30 per hour"
KEY_PREFIX = RESIDENT_LIMIT_PREFIX
EXTENSION = "grid_dispatch_resident_limiter"
#: The limit's own Redis client: a counter is tiny, so a slow answer means Redis is gone.
STORAGE_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0,
                   "retry": Retry(NoBackoff(), 1)}


def client_key() -> str:
    """The address the limit counts against: IPv4 as is, IPv6 by its /64."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def storage_uri(redis_url: str) -> str:
    """The limits library's name for the same Redis (a socket is ``redis+unix://``)."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url.removeprefix("unix://")
    return redis_url


def init_limiter(app: Flask, *, blueprint: Blueprint, redis_url: str,
                 limits: str = POST_LIMITS) -> Limiter:
    """Limit POSTs to ``blueprint`` on ``app``; the limiter is kept in ``app.extensions``.

    With Redis down the limit is counted in this process's memory until Redis answers again
    (checked now and then), so the form neither fails with a 500 nor goes unlimited; the
    report itself then fails to store, and the resident gets the "try again" page for that.
    Short timeouts and a single retry keep a dead Redis from holding each POST for seconds.
    """
    limiter = Limiter(client_key, app=app, storage_uri=storage_uri(redis_url),
                      storage_options=STORAGE_OPTIONS, strategy="moving-window",
                      key_prefix=KEY_PREFIX, default_limits=[], swallow_errors=True,
                      in_memory_fallback_enabled=True)
    limiter.limit(limits, methods=["POST"])(blueprint)
    _scope_to(app, limiter, blueprint.name)
    app.extensions[EXTENSION] = limiter
    return limiter


def _scope_to(app: Flask, limiter: Limiter, blueprint: str) -> None:
    """Run the limiter's hooks for ``blueprint``'s requests only.

    The limiter hooks itself into every request of the app; working out that no limit
    applies costs each API call about 0.3 ms, a third of a single report's budget.
    """
    for hooks in (app.before_request_funcs, app.after_request_funcs,
                  app.teardown_request_funcs):
        mine = [f for f in hooks.get(None, []) if _bound_to(f, limiter)]
        for f in mine:
            hooks[None].remove(f)
            hooks.setdefault(blueprint, []).append(f)


def _bound_to(hook, limiter: Limiter) -> bool:
    """A bound method of ``limiter``, or a partial with it as first argument."""
    if isinstance(hook, partial):
        return bool(hook.args) and hook.args[0] is limiter
    return getattr(hook, "__self__", None) is limiter
