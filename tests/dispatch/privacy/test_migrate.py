"""Events stored before sealing are sealed and scrubbed once, in place, when events are first
served; events stored since are left as they are."""

from __future__ import annotations

import pytest

from dispatch.privacy.disclosure import Disclosure
from dispatch.privacy.migrate import seal_stored_events, sealed_fields
from dispatch.store import keys
from tests.support import vault

LEGACY = {"reporter_name": "王小明", "reporter_phone": "138****5678",
          "description": "联系13912345678，住幸福小区3栋2单元501", "address": "幸福小区3栋",
          "building": "", "extra": '{"hotline": {"reply": "已回复"}}'}


@pytest.fixture
def runtime(redis_server, cache_dir, tmp_path):
    from dashboard.runtime import open_runtime
    from dashboard.settings import Settings

    found = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                  data_dir=tmp_path), warm=False)
    yield found
    found.close()


def test_an_old_event_is_sealed_and_scrubbed_and_reads_as_before(store, runtime):
    from dispatch.access.roles import Actor, Role
    from dispatch.events.intake import Report, parse
    from dispatch.events.models import Source

    event_id = runtime.intake.submit(Report(data=parse(
        {"category": "06001", "lon": 103.893, "lat": 30.806, "description": "井盖"}),
        source=Source.API), actor=Actor("migrate-test", Role.OPERATOR)).id
    r = store.events._r
    r.hset(keys.event(event_id), mapping=LEGACY)
    r.hdel(keys.event(event_id), "description_sealed", "address_sealed")
    r.delete(keys.PRIVACY_SEALED)
    assert seal_stored_events(store.events, runtime.vault) >= 1
    raw = r.hgetall(keys.event(event_id))
    assert "13912345678" not in str(raw) and "王小明" not in str(raw)
    assert "2单元501" not in raw["description"] and raw["address"] == "幸福小区**"
    whole = runtime.events.get(event_id, disclosure=Disclosure.MASKED)
    assert whole["description"] == LEGACY["description"]
    assert whole["location"]["address"] == LEGACY["address"]
    assert whole["reporter"]["name"] == "王**" and whole["extra"]["hotline"]["reply"] == "已回复"
    assert seal_stored_events(store.events, runtime.vault) == 0  # done once


def test_an_event_stored_since_needs_nothing():
    v = vault()
    h = {"id": "x", "reporter_name": v.seal("reporter_name", "王小明"),
         "reporter_phone": v.seal("reporter_phone", "13912345678"),
         "description": "联系139****5678", "description_sealed":
         v.seal("description", "联系13912345678"), "address": "幸福小区**", "building": ""}
    assert sealed_fields(h, v) == {}
