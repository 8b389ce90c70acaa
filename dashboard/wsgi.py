"""The app for a production WSGI server: pages and APIs in several processes.

``grid-dispatch http`` serves this with granian (its HTTP layer is native code, and each
worker is its own process, so requests use every core). Workers share one Redis, named by
``REDIS_URL``; each would otherwise start a Redis of its own. The live websocket stays with
``grid-dispatch serve``: a balancer sends ``/socket.io/`` there and everything else here.
"""

from __future__ import annotations

import atexit

from flask import Flask

from dashboard.app import create_app
from dashboard.runtime import open_runtime
from dashboard.settings import Settings


class SharedRedisRequired(RuntimeError):
    """HTTP workers need the Redis the rest of the site uses."""


def create(settings: Settings | None = None) -> Flask:
    settings = settings or Settings()
    if not settings.redis_url:
        raise SharedRedisRequired("REDIS_URL must name the site's Redis: HTTP workers share it "
                                  "and do not start one of their own")
    runtime = open_runtime(settings)
    atexit.register(runtime.close)
    return create_app(runtime=runtime, live_feed=False).server
