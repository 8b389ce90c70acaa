"""Callbacks a page declares once and every app built from the factory gets.

Dash's module-level ``callback`` hands its registrations to the first app that starts and to
no other, so a second app in the same process (several test apps, or an app rebuilt with other
settings) would answer its callbacks with errors. A page collects its callbacks here instead,
and ``create_app`` registers them on each app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dash


class PageCallbacks:
    def __init__(self) -> None:
        self._server: list[tuple[tuple, dict, Callable]] = []
        self._client: list[tuple[tuple, dict]] = []

    def callback(self, *args: Any, **kwargs: Any) -> Callable[[Callable], Callable]:
        """Like ``dash.callback``: a server-side callback, kept for every app."""

        def keep(fn: Callable) -> Callable:
            self._server.append((args, kwargs, fn))
            return fn

        return keep

    def clientside(self, *args: Any, **kwargs: Any) -> None:
        """Like ``dash.clientside_callback``: a callback that runs in the browser."""
        self._client.append((args, kwargs))

    def register(self, app: dash.Dash) -> None:
        for args, kwargs, fn in self._server:
            app.callback(*args, **kwargs)(fn)
        for args, kwargs in self._client:
            app.clientside_callback(*args, **kwargs)
