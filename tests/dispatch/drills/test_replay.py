"""The replay at any drill second equals a plain recomputation from the entries up to it."""

from __future__ import annotations

import json
import random
from collections import Counter
from itertools import pairwise

import pytest

from dispatch.drills.replay import Replay, state_at
from tests.dispatch.drills.stream_factory import (
    MICRO_A1,
    MICRO_A2,
    MICRO_A3,
    MICRO_B1,
    Stream,
    household,
)

RESPONDER = ("notified", "acknowledged", "en_route", "arrived")
FOUND = ("safe", "needs_help", "not_home", "vacant")


def _upto(entries, t):
    """The entries up to drill second t, in drill-time order (ties keep stream order)."""
    return [f for _, f in sorted(entries, key=lambda e: float(e[1]["t"])) if float(f["t"]) <= t]


def _drill_status(fields_list) -> str:
    status = "planned"
    for f in fields_list:
        if f["kind"] == "drill.moved":
            status = f["after"]
    return status


def naive_muster(entries, t):
    head = json.loads(entries[0][1]["details"])
    workers = [p[0] for p in head["participants"]]
    status, place = dict.fromkeys(workers, "notified"), dict.fromkeys(workers)
    seen = _upto(entries, t)
    for f in seen:
        if f["kind"] == "muster.step" and f["worker"] in status:
            status[f["worker"]] = f["after"]
            if f["lon"] and f["lat"]:
                place[f["worker"]] = (float(f["lon"]), float(f["lat"]))
        elif f["kind"] == "muster.positions":
            for worker, lon, lat in json.loads(f["items"]):
                if worker in place:
                    place[worker] = (lon, lat)
    counts = Counter(status.values())
    return {"t": t, "kind": "muster", "status": _drill_status(seen), "total": len(workers),
            "arrived": counts["arrived"], "counts": {s: counts[s] for s in RESPONDER},
            "responders": {w: {"status": status[w],
                               "lon": place[w][0] if place[w] else None,
                               "lat": place[w][1] if place[w] else None} for w in workers}}


def naive_sweep(entries, t):
    plan = json.loads(entries[0][1]["details"])["households"]
    last: dict[str, str] = {}
    by_micro = Counter(dict.fromkeys(plan, 0))
    help_events = []
    seen = _upto(entries, t)
    for f in seen:
        if f["kind"] == "sweep.report":
            for hid, status in json.loads(f["items"]):
                if hid not in last:
                    by_micro[hid[:17]] += 1
                last[hid] = status
        elif f["kind"] == "sweep.help":
            help_events.append([f["household"], f["event"]])
    found = Counter(last.values())
    return {"t": t, "kind": "sweep", "status": _drill_status(seen),
            "total": sum(max(plan.get(m, 0), n) for m, n in by_micro.items()),
            "reached": len(last), "by_micro": dict(sorted(by_micro.items())),
            "statuses": {s: found[s] for s in FOUND}, "help": len(help_events),
            "help_events": help_events}


def _moments(entries):
    times = sorted({float(f["t"]) for _, f in entries})
    return [-1.0, *times, *[(a + b) / 2 for a, b in pairwise(times)],
            times[-1] + 100]


def _small_muster() -> Stream:
    people = [["w1", MICRO_A1, 0, "grid_worker", ""], ["w2", MICRO_A2, 0, "grid_worker", ""],
              ["w3", MICRO_B1, 0, "grid_worker", ""]]
    s = Stream(participants=people).start(0)
    s.step("w1", "acknowledged", 10).positions(20, [["w1", 103.80, 30.70], ["w2", 103.81, 30.71]])
    s.step("w2", "en_route", 30, lon=103.82, lat=30.72).pause(40).resume(40)
    s.positions(60, [["w2", 103.85, 30.75]]).arrive("w1", 90).arrive("w2", 120, how="override")
    return s.finish(200)


def _small_sweep() -> Stream:
    s = Stream("sweep", households={MICRO_A1: 3, MICRO_B1: 2}).start(0)
    a, b = household(MICRO_A1, 1, 1), household(MICRO_B1, 2, 7)
    s.report("w1", 30, [[a, "safe"]]).report("w2", 30, [[b, "needs_help"]])
    s.help(b, "E-9", 31).report("w1", 90, [[a, "not_home"], [household(MICRO_A1, 1, 2), "vacant"]])
    s.report("w2", 150, [[household(MICRO_A2, 1, 1), "safe"]])  # a micro-grid not planned
    return s.finish(200)


@pytest.mark.parametrize(("make", "naive"), [(_small_muster, naive_muster),
                                             (_small_sweep, naive_sweep)])
def test_replay_equals_recomputation_at_every_moment(make, naive):
    entries = make().entries
    replay = Replay(entries)
    for t in _moments(entries):
        assert replay.at(t) == naive(entries, t), t
        assert state_at(entries, t) == replay.at(t)


def test_positions_come_from_samples_and_steps_whichever_is_later():
    entries = _small_muster().entries
    replay = Replay(entries)
    assert replay.at(25)["responders"]["w2"] == {"status": "notified", "lon": 103.81,
                                                 "lat": 30.71}
    assert replay.at(35)["responders"]["w2"]["lon"] == 103.82
    assert replay.at(60)["responders"]["w2"] == {"status": "en_route", "lon": 103.85,
                                                 "lat": 30.75}
    assert replay.at(45)["status"] == "running" and replay.at(250)["status"] == "finished"


def _random_sweep(seed: int) -> Stream:
    rng = random.Random(seed)
    micros = [MICRO_A1, MICRO_A2, MICRO_A3, MICRO_B1]  # the last one is never planned
    homes = [household(m, b, n) for m in micros for b in (1, 2) for n in range(1, 60)]
    s = Stream("sweep", households={m: 118 for m in micros[:3]}).start(0)
    t = 0.0
    for i in range(150):
        t += rng.choice((0.0, 0.5, 3.0, 7.1))  # ties on purpose
        batch = [[rng.choice(homes), rng.choice([*FOUND, "weird"])]
                 for _ in range(rng.randint(1, 6))]
        s.report(f"w{i % 7}", t, batch)
        if i % 17 == 0:
            s.help(batch[0][0], f"E-{i}", t)
    return s


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replay_of_a_random_sweep_equals_recomputation(seed):
    entries = _random_sweep(seed).entries
    replay = Replay(entries)
    times = sorted({float(f["t"]) for _, f in entries})
    for t in [*times[::5], times[-1], times[-1] + 1, -5.0]:
        assert replay.at(t) == naive_sweep(entries, t), t
    final = replay.at(times[-1])
    assert final["reached"] > 200 and final["by_micro"][MICRO_B1] > 0  # unplanned, reported
    assert sum(final["statuses"].values()) < final["reached"]  # "weird" is counted nowhere


def _random_muster(seed: int) -> Stream:
    rng = random.Random(seed)
    people = [[f"w{i}", MICRO_A1, 0, "grid_worker", ""] for i in range(25)]
    s = Stream(participants=people).start(0)
    stage = dict.fromkeys((p[0] for p in people), 0)
    for i in range(200):
        t = i * 2.5
        if i % 3 == 0:
            s.positions(t, [[w, 103.8 + rng.random() / 10, 30.7 + rng.random() / 10]
                            for w in rng.sample(sorted(stage), 5)])
            continue
        worker = rng.choice(sorted(stage))
        if stage[worker] < 3:
            stage[worker] += rng.randint(1, 3 - stage[worker])
            place = {"lon": round(103.9 + rng.random() / 10, 5),
                     "lat": round(30.8 + rng.random() / 10, 5)} if rng.random() < .5 else {}
            s.step(worker, RESPONDER[stage[worker]], t, **place)
    return s


@pytest.mark.parametrize("seed", [4, 5])
def test_replay_of_a_random_muster_equals_recomputation(seed):
    entries = _random_muster(seed).entries
    replay = Replay(entries)
    for t in [-1.0, 0.0, 7.5, 100.0, 101.0, 250.0, 499.0, 1000.0]:
        assert replay.at(t) == naive_muster(entries, t), t
    assert 0 < replay.at(100.0)["arrived"] < replay.at(1000.0)["arrived"]
