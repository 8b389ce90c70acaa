"""Worker markers on the live feed: every stored position reaches the map, none twice a look."""

from __future__ import annotations

import threading

from dashboard.live_workers import PositionFeed, worker_room
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.workers.models import Worker, WorkerRole
from geo.model import Tier


class Recorder:
    """Stands in for Socket.IO's emitter: keeps what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict, str]] = []

    def emit(self, event: str, data: dict, *, to: str, namespace: str) -> None:
        self.sent.append((event, data, to))


class Rooms:
    district, namespace = "district", "/live"

    @staticmethod
    def street_room(code: str) -> str:
        return f"street:{code}"

    def listened(self, room: str) -> bool:
        return True


def test_every_report_stored_while_the_feed_looks_reaches_the_map(redis_server, cache_dir,
                                                                 demo_grids, tmp_path):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path), warm=False)
    try:
        micro = str(demo_grids.tier(Tier.MICRO)["code"].iloc[0])
        roster = [Worker(id=f"P{i:03d}", name=f"员{i}", phone="10012345678",
                         role=WorkerRole.VOLUNTEER, grid=micro, skills=(), party_member=False,
                         home_lon=103.9, home_lat=30.8) for i in range(200)]
        runtime.workers.replace_all(roster, actor="t", role="admin")
        recorder = Recorder()
        feed = PositionFeed(socketio=recorder, runtime=runtime, rooms=Rooms())
        assert feed.tick() == 0  # the first look only notes where to start
        store = runtime.positions.store
        now_ms = int(runtime.clock.now() * 1000)
        final: dict[str, float] = {}

        def report(part: int) -> None:
            for round_ in range(5):
                batch = [(w.id, 103.9 + round_ * 1e-4, 30.8 + part * 1e-5, now_ms + round_, 10.0)
                         for w in roster[part::4]]
                store.put_many(batch)

        threads = [threading.Thread(target=report, args=(p,)) for p in range(4)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            feed.tick()
        for t in threads:
            t.join()
        feed.tick()
        for _, data, room in recorder.sent:
            if room == "district":
                for wid, lon, _lat, _acc, _age, _state in data["workers"]:
                    final[wid] = lon
        assert set(final) == {w.id for w in roster}
        assert all(abs(lon - (103.9 + 4e-4)) < 2e-6 for lon in final.values())  # GEO precision
        assert feed.tick() == 0  # nothing moved since: nothing sent again
        assert worker_room("P001") != "P001"
    finally:
        runtime.close()
