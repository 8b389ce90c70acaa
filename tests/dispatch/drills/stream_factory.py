"""Hand-made drill change streams, entry by entry, as XRANGE would read them back."""

from __future__ import annotations

import json

START_AT = 1_714_526_400.0  # 2024-05-01 09:20:00 Beijing time

STREET_A, STREET_B = "510117001", "510117006"
GEN_A1 = STREET_A + "001" + "01"  # general grid 01 of community 001 in street A
GEN_A2 = STREET_A + "001" + "02"
GEN_B1 = STREET_B + "003" + "01"
MICRO_A1, MICRO_A2 = GEN_A1 + "001", GEN_A1 + "002"
MICRO_A3 = GEN_A2 + "001"
MICRO_B1 = GEN_B1 + "001"


def household(micro: str, building: int, number: int) -> str:
    return f"{micro}-{building:02d}-{number:03d}"


class Stream:
    """A drill's stream: the plan first, then whatever the test adds, each at drill second t."""

    def __init__(self, kind: str = "muster", *, target_s: float = 900, pass_share: float = 1.0,
                 participants: list[list[object]] | None = None,
                 households: dict[str, int] | None = None,
                 priority: dict[str, int] | None = None, title: str = "演练",
                 scope: str = "510117", speed: float = 1, points: list[dict] | None = None):
        self.entries: list[tuple[str, dict[str, str]]] = []
        self.wall = START_AT
        self.last_t = 0.0
        head = {"id": "d-1", "kind": kind, "scenario": "epidemic", "scope": scope,
                "title": title, "target_s": target_s, "pass_share": pass_share,
                "speed": speed, "simulated": speed > 1,
                "points": points if points is not None else
                [{"name": "社区广场", "lon": 103.89, "lat": 30.80, "radius_m": 150,
                  "serves": ""}],
                "participants": participants or [], "households": households or {},
                "priority": priority or {}}
        self.add("drill.planned", 0, details=json.dumps(head, ensure_ascii=False))

    def add(self, kind: str, t: float, **fields: object) -> Stream:
        self.wall += max(t - self.last_t, 0)
        self.last_t = max(self.last_t, t)
        entry = {"kind": kind, "actor": "coord", "role": "operator",
                 "at": f"{self.wall:.3f}", "t": f"{t:.3f}"}
        entry |= {k: str(v) for k, v in fields.items()}
        self.entries.append((f"{int(self.wall * 1000)}-{len(self.entries)}", entry))
        return self

    def move(self, action: str, before: str, after: str, t: float) -> Stream:
        return self.add("drill.moved", t, action=action, before=before, after=after)

    def start(self, t: float = 0) -> Stream:
        return self.move("start", "planned", "running", t)

    def pause(self, t: float, wall_s: float = 0) -> Stream:
        self.move("pause", "running", "paused", t)
        self.wall += wall_s  # the wall clock runs on while the drill clock stands still
        return self

    def resume(self, t: float) -> Stream:
        return self.move("resume", "paused", "running", t)

    def finish(self, t: float) -> Stream:
        return self.move("finish", "running", "finished", t)

    def abort(self, t: float) -> Stream:
        return self.move("abort", "running", "aborted", t)

    def step(self, worker: str, after: str, t: float, *, before: str = "", how: str = "",
             reason: str = "", lon: object = "", lat: object = "") -> Stream:
        return self.add("muster.step", t, worker=worker, before=before, after=after, how=how,
                        reason=reason, lon=lon, lat=lat, dist_m="")

    def arrive(self, worker: str, t: float, how: str = "geofence", reason: str = "") -> Stream:
        return self.step(worker, "arrived", t, before="en_route", how=how, reason=reason,
                         lon=103.89, lat=30.80)

    def positions(self, t: float, rows: list[list[object]]) -> Stream:
        return self.add("muster.positions", t, items=json.dumps(rows))

    def report(self, worker: str, t: float, rows: list[list[str]]) -> Stream:
        return self.add("sweep.report", t, worker=worker, items=json.dumps(rows))

    def help(self, household_id: str, event: str, t: float) -> Stream:
        return self.add("sweep.help", t, household=household_id, event=event)

    def slots(self, t: float, rows: list[list[str]]) -> Stream:
        return self.add("sweep.slots", t, items=json.dumps(rows, ensure_ascii=False))
