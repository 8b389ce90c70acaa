"""The HTTP API: one blueprint per resource, and the channels' own protocols under ``channels``."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def modules() -> Iterator[ModuleType]:
    """Every module of this package and its subpackages, in name order."""
    for info in sorted(pkgutil.walk_packages(__path__, f"{__name__}."), key=lambda m: m.name):
        yield importlib.import_module(info.name)
