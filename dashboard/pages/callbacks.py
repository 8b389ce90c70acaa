"""Callbacks a page declares once and every app built from the factory gets.

Dash's module-level ``callback`` hands its registrations to the first app that starts and to
no other, so a second app in the same process (several test apps, or an app rebuilt with other
settings) would answer its callbacks with errors. A page collects its callbacks here instead,
and ``create_app`` registers them on each app.

Every server-side callback names the permission it needs; it is asked of the access policy
before the callback runs, so a callback reached without it is refused (401 or 403) and never
falls back to some default role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

import dash

from dashboard.api.access import current_actor
from dispatch.access.policy import Permission, require


@dataclass(frozen=True, slots=True)
class ServerCallback:
    args: tuple
    kwargs: dict
    fn: Callable
    permission: Permission


#: Callbacks Dash adds itself: the pages router renders a page's layout, which the page
#: route's own permission already covers.
FRAMEWORK: dict[tuple[str, str], Permission] = {("dash.dash", "update"): Permission.PAGE_VIEW}


def permission_of(fn: Callable) -> Permission | None:
    """The permission a registered callback asks for, or ``None`` when it has no entry."""
    found = getattr(fn, "permission", None)
    if found is not None:
        return found
    inner = getattr(fn, "__wrapped__", fn)
    found = getattr(inner, "permission", None)
    return found or FRAMEWORK.get((inner.__module__, inner.__name__))


class PageCallbacks:
    def __init__(self) -> None:
        self.server: list[ServerCallback] = []
        self._client: list[tuple[tuple, dict]] = []

    def callback(self, *args: Any, permission: Permission,
                 **kwargs: Any) -> Callable[[Callable], Callable]:
        """Like ``dash.callback``, with the permission the callback needs."""

        def keep(fn: Callable) -> Callable:
            @wraps(fn)
            def guarded(*a: Any, **kw: Any) -> Any:
                require(current_actor(), permission)
                return fn(*a, **kw)

            guarded.permission = permission  # type: ignore[attr-defined]
            self.server.append(ServerCallback(args, kwargs, guarded, permission))
            return fn

        return keep

    def clientside(self, *args: Any, **kwargs: Any) -> None:
        """Like ``dash.clientside_callback``: a callback that runs in the browser."""
        self._client.append((args, kwargs))

    def register(self, app: dash.Dash) -> None:
        for cb in self.server:
            app.callback(*cb.args, **cb.kwargs)(cb.fn)
        for args, kwargs in self._client:
            app.clientside_callback(*args, **kwargs)


def clicked(clicks: object) -> dict | None:
    """The pattern id of the button that fired a pattern-matching callback, or None when
    nothing was really clicked (a button drawn anew fires with no clicks)."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not isinstance(clicks, list) or not any(clicks):
        return None
    return dict(trigger)
