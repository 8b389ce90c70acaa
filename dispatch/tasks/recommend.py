"""Who should handle an event: a ranked list of workers, each with its reason in words.

Grid membership comes first (the micro-grid's leader and its own workers, then the general
and total grid's leaders), then whoever is nearest. Within that, a score weighs duty status,
the tasks a worker already holds, whether their skills cover the event's class, how fresh
their position is, and what their leaving would cost their own grid (taking the only on-duty
worker out of another micro-grid). The weights live in a TOML file a site may replace.

``rank`` is pure: it takes the candidates and what is known of them, so it is tested without
Redis and measured against a naive full scan in ``bench assign``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from pathlib import Path

from dispatch.events.models import categories
from dispatch.workers.models import DutyStatus, LeaderTier, Worker
from dispatch.workers.positions import Seen
from geo.model import data_dir


class Relation(StrEnum):
    MICRO_LEADER = "micro_leader"
    MICRO_MEMBER = "micro_member"
    GENERAL_LEADER = "general_leader"
    TOTAL_LEADER = "total_leader"
    NEARBY = "nearby"


_RELATION_WORDS = {Relation.MICRO_LEADER: "micro-grid leader of {micro}",
                   Relation.MICRO_MEMBER: "works in {micro}",
                   Relation.GENERAL_LEADER: "general grid leader of {general}",
                   Relation.TOTAL_LEADER: "total grid leader of {total}",
                   Relation.NEARBY: "nearby"}
_DUTY_WORDS = {DutyStatus.ON_DUTY: "on duty", DutyStatus.BUSY: "busy",
               DutyStatus.OFF: "off duty", DutyStatus.ON_LEAVE: "on leave"}
#: The same words for the operators' screen in Chinese.
_RELATION_ZH = {Relation.MICRO_LEADER: "{micro} 微网格长", Relation.MICRO_MEMBER: "{micro} 网格员",
                Relation.GENERAL_LEADER: "{general} 一般网格长",
                Relation.TOTAL_LEADER: "{total} 总网格长", Relation.NEARBY: "附近"}
_DUTY_ZH = {DutyStatus.ON_DUTY: "在岗", DutyStatus.BUSY: "忙碌", DutyStatus.OFF: "下班",
            DutyStatus.ON_LEAVE: "请假"}


@dataclass(frozen=True, slots=True)
class Weights:
    relation: Mapping[Relation, float]
    duty: Mapping[DutyStatus, float]
    per_open_task: float
    per_km: float
    max_distance_penalty: float
    stale: float
    unknown_position: float
    skill_match: float
    only_on_duty_elsewhere: float


class WeightsError(ValueError):
    """A weights file that is missing a weight or gives one that is not a number."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


DEFAULT_WEIGHTS = data_dir() / "recommend.toml"


def load_weights(path: Path = DEFAULT_WEIGHTS) -> Weights:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Weights(
            relation={r: _num(raw["relation"][r.value]) for r in Relation},
            duty={d: _num(raw["duty"][d.value]) for d in DutyStatus},
            per_open_task=_num(raw["load"]["per_open_task"]),
            per_km=_num(raw["distance"]["per_km"]),
            max_distance_penalty=_num(raw["distance"]["max_penalty"]),
            stale=_num(raw["position"]["stale"]),
            unknown_position=_num(raw["position"]["unknown"]),
            skill_match=_num(raw["skill"]["match"]),
            only_on_duty_elsewhere=_num(raw["coverage"]["only_on_duty_elsewhere"]),
        )
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WeightsError(path, str(exc)) from exc
    except KeyError as exc:
        raise WeightsError(path, f"missing weight {exc.args[0]!r}") from exc
    except (TypeError, ValueError) as exc:
        raise WeightsError(path, str(exc)) from exc


def _num(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise ValueError(f"weight {value!r} is not a finite number")
    return float(value)


@dataclass(frozen=True, slots=True)
class Place:
    """The event as ranking needs it."""

    micro: str
    general: str
    total: str
    lon: float
    lat: float
    category: str


@dataclass(frozen=True, slots=True)
class Candidate:
    worker: Worker
    relation: Relation
    score: float
    distance_m: float
    duty: DutyStatus
    open_tasks: int
    skill: str  # the matched class name, "" if none
    stale: bool
    leaves_gap: bool = False  # the only one on duty in their own micro-grid
    reasons: tuple[str, ...] = field(default=())
    reasons_zh: tuple[str, ...] = field(default=())

    @property
    def reason(self) -> str:
        return " · ".join(self.reasons)

    @property
    def reason_zh(self) -> str:
        return " · ".join(self.reasons_zh)


def relation(worker: Worker, place: Place) -> Relation:
    """How a worker stands to the event's place (the closest tie wins)."""
    if worker.leader_tier is LeaderTier.MICRO and worker.leads == place.micro:
        return Relation.MICRO_LEADER
    if worker.grid == place.micro:
        return Relation.MICRO_MEMBER
    if worker.leader_tier is LeaderTier.GENERAL and worker.leads == place.general:
        return Relation.GENERAL_LEADER
    if worker.leader_tier is LeaderTier.TOTAL and worker.leads == place.total:
        return Relation.TOTAL_LEADER
    return Relation.NEARBY


def rank(place: Place, workers: Iterable[Worker], *, weights: Weights,
         seen: Mapping[str, Seen], open_tasks: Mapping[str, int],
         on_duty_in_grid: Mapping[str, int],
         duty: Callable[[Worker], DutyStatus] = lambda w: w.duty,
         limit: int = 10) -> list[Candidate]:
    """The best ``limit`` candidates, best first; ties go to the nearer, then the lower id."""
    wanted = place.category[:2]
    out = [_score(w, place, weights=weights, seen=seen.get(w.id),
                  tasks=open_tasks.get(w.id, 0), on_duty_in_grid=on_duty_in_grid,
                  status=duty(w), wanted=wanted) for w in workers]
    out.sort(key=lambda c: (-c.score, c.distance_m, c.worker.id))
    return [_explained(c, place, seen.get(c.worker.id)) for c in out[:limit]]


def _score(w: Worker, place: Place, *, weights: Weights, seen: Seen | None, tasks: int,
           on_duty_in_grid: Mapping[str, int], status: DutyStatus,
           wanted: str) -> Candidate:
    rel = relation(w, place)
    score = weights.relation[rel] + weights.duty[status] + weights.per_open_task * tasks
    if seen is not None:
        distance = seen.distance_m if seen.distance_m is not None else \
            metres(seen.lon, seen.lat, place.lon, place.lat)
        if seen.stale:
            score += weights.stale
    else:
        distance = metres(w.home_lon, w.home_lat, place.lon, place.lat)
        score += weights.unknown_position
    score += max(weights.max_distance_penalty, weights.per_km * distance / 1000)
    skill = class_names().get(wanted, "") if wanted in w.skills else ""
    if skill:
        score += weights.skill_match
    leaves_gap = (w.grid != place.micro and status is DutyStatus.ON_DUTY
                  and on_duty_in_grid.get(w.grid, 0) <= 1)
    if leaves_gap:
        score += weights.only_on_duty_elsewhere
    return Candidate(worker=w, relation=rel, score=round(score, 3), distance_m=distance,
                     duty=status, open_tasks=tasks, skill=skill,
                     stale=bool(seen and seen.stale), leaves_gap=leaves_gap)


def _explained(c: Candidate, place: Place, seen: Seen | None) -> Candidate:
    """The candidate with its reason in words (written only for those shown)."""
    rel, tasks, w = c.relation, c.open_tasks, c.worker
    reasons = [_RELATION_WORDS[rel].format(micro=place.micro, general=place.general,
                                           total=place.total),
               _distance_in("en", c.distance_m, seen), _DUTY_WORDS[c.duty],
               f"{tasks} open task{'s' if tasks != 1 else ''}"]
    zh = [_RELATION_ZH[rel].format(micro=place.micro, general=place.general,
                                   total=place.total),
          _distance_in("zh", c.distance_m, seen), _DUTY_ZH[c.duty], f"在办 {tasks} 件"]
    if c.skill:
        reasons.append(f"skill: {c.skill}")
        zh.append(f"专长：{c.skill}")
    if c.leaves_gap:
        reasons.append(f"only one on duty in {w.grid}")
        zh.append(f"{w.grid} 仅此一人在岗")
    return replace(c, reasons=tuple(reasons), reasons_zh=tuple(zh))


#: A distance in words: metres, kilometres, from home (no position), a stale position.
_DISTANCE = {"en": ("{:.0f} m", "{:.1f} km", "{} from home (no position)",
                    "{} (position {:.0f} min old)"),
             "zh": ("{:.0f} 米", "{:.1f} 公里", "距住址 {}（无定位）",
                    "{}（定位已 {:.0f} 分钟未更新）")}


def _distance_in(lang: str, distance: float, seen: Seen | None) -> str:
    metres_, km, from_home, old = _DISTANCE[lang]
    words = metres_.format(distance) if distance < 1000 else km.format(distance / 1000)
    if seen is None:
        return from_home.format(words)
    if seen.stale:
        return old.format(words, seen.age_s / 60)
    return words


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine); at a district's scale it is exact to centimetres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


@cache
def class_names() -> dict[str, str]:
    """Event class code → its name, for the skill words."""
    return {c.class_code: c.class_name for c in categories().values()}
