"""Chinese and English words the after-action report prints beside each code it shows."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from geo.model import data_dir

Pair = tuple[str, str]

KINDS: dict[str, Pair] = {"muster": ("15分钟集结", "15-minute muster"),
                          "sweep": ("15分钟全面摸排", "15-minute household sweep")}
DRILL_STATUSES: dict[str, Pair] = {
    "planned": ("计划中", "Planned"), "running": ("进行中", "Running"),
    "paused": ("已暂停", "Paused"), "finished": ("已结束", "Finished"),
    "aborted": ("已中止", "Aborted")}
RESPONDERS: dict[str, Pair] = {
    "notified": ("已通知", "Notified"), "acknowledged": ("已确认", "Acknowledged"),
    "en_route": ("在途", "En route"), "arrived": ("已到达", "Arrived")}
HOUSEHOLDS: dict[str, Pair] = {
    "safe": ("安全", "Safe"), "needs_help": ("需帮助", "Needs help"),
    "not_home": ("不在家", "Not home"), "vacant": ("空置", "Vacant")}
HOWS: dict[str, Pair] = {"geofence": ("电子围栏", "Geofence"),
                         "override": ("人工确认", "Override"), "other": ("其他", "Other")}
LEVELS: dict[str, Pair] = {
    "street": ("街道", "Street"), "community": ("社区（总网格）", "Community (total grid)"),
    "grid": ("一般网格", "General grid"), "micro": ("微网格", "Micro-grid"),
    "team": ("队伍", "Team"), "point": ("集结点", "Muster point")}
MOMENTS: dict[str, Pair] = {
    "planned": ("计划", "Planned"), "start": ("开始", "Start"), "pause": ("暂停", "Pause"),
    "resume": ("继续", "Resume"), "finish": ("结束", "Finish"), "abort": ("中止", "Abort"),
    "reached_50": ("到达50%", "50 % reached"), "reached_80": ("到达80%", "80 % reached"),
    "reached_100": ("全部到达", "100 % reached")}
OUTCOMES: dict[str, Pair] = {"on_time": ("按时", "On time"), "late": ("超时", "Late"),
                             "missing": ("未到", "Missing")}


def scenario_label(name: str) -> Pair:
    """A scenario's label from the scenario file; its name when the file lacks it."""
    path = Path(os.environ.get("GRID_DISPATCH_DRILL_SCENARIOS_FILE")
                or data_dir() / "drill_scenarios.toml")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8")).get(name, {})
    except (OSError, tomllib.TOMLDecodeError):
        raw = {}
    return str(raw.get("label", name)), str(raw.get("label_en", name))


def pair(table: dict[str, Pair], code: str) -> Pair:
    return table.get(code, (code, code))
