"""Drill scenarios (epidemic, flood, fire, earthquake), read from a TOML file a site may replace."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dispatch.households.models import SpecialTag
from dispatch.workers.models import WorkerRole
from geo.model import data_dir

DEFAULT_FILE = data_dir() / "drill_scenarios.toml"
POINT_RULES = ("community", "street", "scope")


class ScenarioError(ValueError):
    """A scenario file that cannot be used, or a scenario name it does not define."""

    def __init__(self, message: str, *, value: object) -> None:
        super().__init__(message)
        self.value = value


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    label: str
    label_en: str
    points: str  # one of POINT_RULES
    radius_m: float
    roles: tuple[WorkerRole, ...]
    priority: tuple[SpecialTag, ...]
    questions: tuple[str, ...]
    questions_en: tuple[str, ...]
    slot: str
    slot_en: str


def _scenario(name: str, raw: dict[str, Any]) -> Scenario:
    try:
        found = Scenario(
            name=name, label=str(raw["label"]), label_en=str(raw["label_en"]),
            points=str(raw["points"]), radius_m=float(raw["radius_m"]),
            roles=tuple(WorkerRole(r) for r in raw["roles"]),
            priority=tuple(SpecialTag(t) for t in raw["priority"]),
            questions=tuple(map(str, raw["questions"])),
            questions_en=tuple(map(str, raw.get("questions_en", raw["questions"]))),
            slot=str(raw["slot"]), slot_en=str(raw.get("slot_en", raw["slot"])))
    except KeyError as exc:
        raise ScenarioError(f"scenario {name!r} lacks {exc.args[0]!r}", value=name) from exc
    except ValueError as exc:
        raise ScenarioError(f"scenario {name!r}: {exc}", value=name) from exc
    if found.points not in POINT_RULES:
        raise ScenarioError(f"scenario {name!r}: points must be one of {POINT_RULES}, "
                            f"not {found.points!r}", value=found.points)
    return found


@cache
def load_scenarios(path: Path = DEFAULT_FILE) -> dict[str, Scenario]:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"scenario file {str(path)!r} cannot be read: {exc}",
                            value=str(path)) from exc
    return {name: _scenario(name, body) for name, body in raw.items()}


def scenario(name: str, path: Path = DEFAULT_FILE) -> Scenario:
    known = load_scenarios(path)
    if name not in known:
        raise ScenarioError(f"scenario {name!r} is not one of {sorted(known)}", value=name)
    return known[name]
