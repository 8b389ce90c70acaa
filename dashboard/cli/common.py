"""The command group and what every command shares: settings, and errors said in words.

Every command reads the same settings as the server (``Settings`` from the environment), so a
site's grid file, seed, data folder and public URL apply to all of them alike.
"""

from __future__ import annotations

import sys
from typing import Any

import click


class _Group(click.Group):
    """Turns the errors a user can cause (settings, files, an unreachable Redis) into one line
    on stderr and exit 1, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except Exception as exc:  # translated below, or re-raised
            message = user_error(exc)
            if message is None:
                raise
            click.echo(f"grid-dispatch: {message}", err=True)
            sys.exit(1)


def user_error(exc: BaseException) -> str | None:
    """The words for an error a user caused, or None for a bug (which keeps its traceback)."""
    import redis
    from pydantic import ValidationError

    from dispatch.privacy.vault import DataKeyError, SealError
    from dispatch.store.server import RedisInUseError, RedisUnavailableError
    from geo.io import GridFileError

    if isinstance(exc, ValidationError):
        return _settings_problem(exc)
    if isinstance(exc, (RedisUnavailableError, RedisInUseError, GridFileError, DataKeyError,
                        SealError)):
        return str(exc)
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return f"Redis unreachable: {exc} (check REDIS_URL or start the server)"
    if isinstance(exc, redis.AuthenticationError | redis.ResponseError):
        return f"Redis refused the request: {exc} (check REDIS_URL)"
    return None


def _settings_problem(exc: Any) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        variable = _variable(where)
        value = err.get("input")
        shown = f" (got {value!r})" if where and not isinstance(value, dict) else ""
        lines.append(f"{variable or 'settings'}: {err.get('msg', 'invalid')}{shown}")
    return "invalid setting: " + "; ".join(lines)


def _variable(field_name: str) -> str:
    if not field_name:
        return ""
    if field_name == "redis_url":
        return "REDIS_URL"
    return f"GRID_DISPATCH_{field_name.upper()}"


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Grid dispatch centre for Pidu District's three-tier community grids."""


def settings_from_env(**overrides: Any):
    """The server's settings, with the command's options (those given) on top."""
    from dashboard.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})
