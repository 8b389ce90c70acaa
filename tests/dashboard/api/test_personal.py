"""Residents' personal data: sealed at rest, scrubbed for the public and leaders, masked for
the people handling the case, shown in full only by an audited reveal."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from click.testing import CliRunner

from dashboard.app import create_app
from dashboard.cli import main
from dashboard.runtime import open_runtime
from dashboard.settings import Settings
from dispatch.access.roles import Role
from dispatch.store import keys

#: Everything the finding saw published verbatim, in one report.
DESCRIPTION = ("电话+8613912345678 或 138-1234-5678 或 138 1234 5678，座机028-87654321，"
               "邮箱 zhang.san@example.com，身份证 5101 2419 9001 0112 34，"
               "住幸福小区3栋2单元501 张三家，楼道堆满杂物")
ADDRESS = "犀浦街道幸福小区3栋2单元501"
PHONE = "13912345678"
#: Nothing of these may reach a public or lower-privilege reader.
LEAKS = ("13912345678", "12345678", "1234-5678", "1234 5678", "87654321",
         "zhang.san", "@example.com", "5101 2419", "0112 34", "3栋2单元501", "2单元", "张三家",
         "13912345678", "王小明")


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    runtime = open_runtime(Settings(redis_url=redis_server.url, cache_dir=cache_dir,
                                    data_dir=tmp_path_factory.mktemp("data")), warm=False)
    app = create_app(runtime=runtime)
    tokens = {role: runtime.auth.create_token(name=f"personal-{role.value}", role=role)
              for role in (Role.OPERATOR, Role.LEADER, Role.INTEGRATION, Role.ADMIN)}
    client = app.server.test_client()
    resp = client.post("/api/v1/events", headers=_auth(tokens[Role.OPERATOR]), json={
        "category": "01001", "lon": 103.893, "lat": 30.806, "description": DESCRIPTION,
        "address": ADDRESS, "building": "3栋", "reporter_name": "王小明",
        "reporter_phone": PHONE})
    assert resp.status_code == 201, resp.text
    yield client, runtime, tokens, resp.get_json()["id"]
    runtime.close()


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _leaks(text: str) -> list[str]:
    return [leak for leak in LEAKS if leak in text]


def test_phones_and_names_are_sealed_at_rest_and_free_text_kept_scrubbed(env):
    _, runtime, _, event_id = env
    stored = runtime.store.events._r.hgetall(keys.event(event_id))
    assert stored["reporter_phone"].startswith("§1:") and PHONE not in str(stored)
    assert stored["reporter_name"].startswith("§1:") and "王小明" not in str(stored)
    for name in ("description", "address"):
        assert not _leaks(stored[name]), (name, stored[name])
        assert stored[f"{name}_sealed"].startswith("§1:")
    opened = runtime.vault.open("description", stored["description_sealed"])
    assert opened == DESCRIPTION  # kept whole, for the people handling the case


def test_an_anonymous_open311_read_shows_no_personal_data(env):
    client, _, _, event_id = env
    for fmt in ("json", "xml"):
        text = client.get(f"/open311/v2/requests/{event_id}.{fmt}").get_data(as_text=True)
        assert "楼道堆满杂物" in text and not _leaks(text), _leaks(text)
    listed = client.get("/open311/v2/requests.json").get_data(as_text=True)
    assert event_id in listed and not _leaks(listed)


@pytest.mark.parametrize("role", [Role.LEADER, Role.INTEGRATION])
def test_leaders_and_integrations_read_scrubbed_text_and_no_reporter(env, role):
    client, _, tokens, event_id = env
    one = client.get(f"/api/v1/events/{event_id}", headers=_auth(tokens[role]))
    assert one.status_code == 200 and not _leaks(one.get_data(as_text=True))
    assert one.get_json()["reporter"]["name"] == one.get_json()["reporter"]["phone"] == ""
    at = one.get_json()["created_at"]
    listed = client.get(f"/api/v1/events?since={at - 1}&until={at + 1}&limit=1000",
                        headers=_auth(tokens[role]))
    [mine] = [e for e in listed.get_json()["events"] if e["id"] == event_id]
    assert not _leaks(json.dumps(mine, ensure_ascii=False))


def test_an_operator_sees_it_whole_with_the_contact_masked(env):
    client, _, tokens, event_id = env
    view = client.get(f"/api/v1/events/{event_id}", headers=_auth(tokens[Role.OPERATOR]))
    body = view.get_json()
    assert body["description"] == DESCRIPTION and body["location"]["address"] == ADDRESS
    assert body["reporter"] == {"name": "王**", "phone": "139****5678", "masked": True}


def test_a_reveal_shows_the_whole_number_and_lands_in_the_audit_export(env, redis_server):
    client, runtime, tokens, event_id = env
    url = f"/api/v1/events/{event_id}/reveal"
    got = client.post(url, json={"reason": "call_back", "note": "回访"},
                      headers=_auth(tokens[Role.OPERATOR]))
    assert got.status_code == 200, got.text
    assert got.get_json()["reporter"] == {"name": "王小明", "phone": PHONE}
    result = CliRunner().invoke(main, ["audit", "export"], env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    reveal = [r for r in rows if r["action"] == "personal.reveal" and r["target"] == event_id]
    assert reveal and reveal[-1]["actor"] == "personal-operator"
    assert reveal[-1]["reason"] == "call_back" and reveal[-1]["field"] == "reporter"
    assert any(r["action"] == "personal.read" and r["target"] == event_id for r in rows)
    assert any(r["stream"] == "changes" and r["target"] == event_id for r in rows)
    assert PHONE not in result.output and not _leaks(result.output)
    exported = runtime.audit.export(since=0)
    assert [r for r in exported if r["action"] == "audit.export"]  # the export is audited too


@pytest.mark.parametrize(("body", "role", "status", "field"), [
    ({"reason": "call_back"}, Role.LEADER, 403, None),
    ({"reason": "call_back"}, Role.ADMIN, 403, None),
    ({"reason": "curious"}, Role.OPERATOR, 422, "reason"),
    ({"reason": "verify", "note": "x" * 201}, Role.OPERATOR, 422, "note"),
    ([], Role.OPERATOR, 400, "body"),
])
def test_a_reveal_needs_the_permission_and_a_known_reason(env, body, role, status, field):
    client, runtime, tokens, event_id = env
    before = runtime.store.events._r.xlen(keys.AUDIT)
    resp = client.post(f"/api/v1/events/{event_id}/reveal", json=body,
                       headers=_auth(tokens[role]))
    assert resp.status_code == status and PHONE not in resp.get_data(as_text=True)
    if field:
        assert resp.get_json()["field"] == field
    after = runtime.store.events._r.xrange(keys.AUDIT, "-", "+")[before:]
    assert not [f for _, f in after if f["action"] == "personal.reveal"]


def test_a_reveal_of_an_unknown_event_is_404(env):
    client, _, tokens, _ = env
    resp = client.post("/api/v1/events/19990101-000001/reveal", json={"reason": "verify"},
                       headers=_auth(tokens[Role.OPERATOR]))
    assert resp.status_code == 404


def test_anonymous_callers_reveal_nothing(env):
    client, _, _, event_id = env
    resp = client.post(f"/api/v1/events/{event_id}/reveal", json={"reason": "verify"})
    assert resp.status_code == 401 and PHONE not in resp.get_data(as_text=True)


def test_repeated_reads_of_one_event_are_one_audit_entry_a_window(env):
    client, runtime, _, event_id = env
    admin = runtime.auth.create_token(name="personal-reader", role=Role.ADMIN)
    for _ in range(3):
        client.get(f"/api/v1/events/{event_id}", headers=_auth(admin))
    reads = [r for r in runtime.audit.export(since=0, changes=False)
             if r["actor"] == "personal-reader" and r["action"] == "personal.read"]
    assert len(reads) == 1


def test_the_export_writes_json_lines_to_a_file(env, redis_server, tmp_path):
    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(main, ["audit", "export", "--format", "jsonl", "-o", str(out),
                                       "--no-changes", "--since", "2020-01-01T00:00:00"],
                                env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines and all(re.match(r'^\{"seq": ', line) for line in lines)
    assert "changes" not in {line.split('"stream": "')[1].split('"')[0] for line in lines}
    bad = CliRunner().invoke(main, ["audit", "export", "--since", "yesterday"],
                             env={"REDIS_URL": redis_server.url})
    assert bad.exit_code == 2 and "--since" in bad.output


def test_an_events_export_carries_public_text_only(env, redis_server):
    _, runtime, _, event_id = env
    created = runtime.events.get(event_id)["created_at"]
    result = CliRunner().invoke(main, ["events", "export", "--since", str(created - 1),
                                       "--until", str(created + 1)],
                                env={"REDIS_URL": redis_server.url})
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(result.output))}
    assert "楼道堆满杂物" in rows[event_id]["description"]
    assert not _leaks(result.output), _leaks(result.output)
    trail = runtime.audit.export(since=created - 1, changes=False)
    assert [r for r in trail if r["action"] == "audit.export" and r["field"] == "events"]
    bad = CliRunner().invoke(main, ["events", "export", "--street", "999"],
                             env={"REDIS_URL": redis_server.url})
    assert bad.exit_code == 2 and "--street" in bad.output
