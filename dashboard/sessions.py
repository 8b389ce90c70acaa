"""Server-side sessions: the browser holds only a random id, Redis holds the session.

Signing out deletes the session, so a cookie copied before ``/logout`` is worth nothing
after it; an administrator ends all of one person's sessions with ``grid-dispatch users
sign-out``. Static files never read a session, so a Redis outage cannot slow them; any other
request whose session cannot be read is answered as an outage (503), never as a 500.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import redis
from flask import Flask, g
from flask_session.redis import RedisSessionInterface

from dispatch.store import keys
from dispatch.store.errors import StoreError, outage_message
from dispatch.store.sessions import SessionStore

#: A control-room shift: a session ends this long after sign-in, whatever happens in it.
LIFETIME = timedelta(hours=12)
#: Requests that never need to know who is asking (files, health, the API document).
_NO_SESSION = ("/assets/", "/_dash-component-suites/", "/_reload-hash", "/healthz",
               "/openapi.json", "/favicon.ico", "/tiles/")
_UNREAD = "grid_dispatch_session_unread"


class ServerSessions(RedisSessionInterface):
    def open_session(self, app: Flask, req):  # type: ignore[override]
        if req.path.startswith(_NO_SESSION):
            return self.make_null_session(app)
        try:
            return super().open_session(app, req)
        except redis.RedisError as exc:
            g.setdefault(_UNREAD, exc)
            return self.session_class(sid=self._generate_sid(self.sid_length),
                                      permanent=self.permanent)

    def save_session(self, app: Flask, session, response) -> None:  # type: ignore[override]
        if self.is_null_session(session) or g.get(_UNREAD):
            return
        # The answer is already made; a session not saved now is a sign-in the next request
        # asks for again.
        with contextlib.suppress(redis.RedisError):
            super().save_session(app, session, response)


def install(server: Flask, *, sessions: SessionStore, secure: bool) -> None:
    server.config.update(PERMANENT_SESSION_LIFETIME=LIFETIME,
                         SESSION_REFRESH_EACH_REQUEST=False,
                         SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure)
    server.session_interface = ServerSessions(server, client=sessions.raw,
                                              key_prefix=keys.SESSION_PREFIX, sid_length=32)

    @server.before_request
    def session_unread() -> None:
        """A session Redis could not read: the app's outage answer, in the request's shape."""
        if exc := g.get(_UNREAD):
            raise StoreError(outage_message(exc))
