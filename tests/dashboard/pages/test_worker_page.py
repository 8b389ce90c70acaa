"""The worker's phone page: who may open it, the one-time sign-in link, and task photos."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner
from PIL import Image

from dashboard.cli import main
from dashboard.pages.worker import vocabulary
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import Reach, Scope
from dispatch.events.intake import Report, parse
from dispatch.events.models import Source
from dispatch.store.links import LinkStore
from dispatch.tasks.lifecycle import STEPS, TaskStatus
from dispatch.tasks.lifecycle import Actor as StepActor
from dispatch.workers.models import Worker, WorkerRole
from tests.support import running_app

PASSWORD = "worker-page-pw"
POINT = (103.8890, 30.8080)
OPERATOR = Actor(name="wp-operator", role=Role.OPERATOR)
ORIGIN = {"Origin": "http://localhost"}


def _worker(wid: str, grid: str) -> Worker:
    return Worker(id=wid, name=f"网格员{wid}", phone="10012345678",
                  role=WorkerRole.GRID_WORKER, grid=grid, party_member=True,
                  home_lon=POINT[0], home_lat=POINT[1])


@pytest.fixture(scope="module")
def env(redis_server, cache_dir, demo_grids, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("worker-page")
    with running_app(redis_server.url, cache_dir=cache_dir, data_dir=data_dir,
                     name="worker-page", roles=[Role.OPERATOR]) as (client, runtime, tokens):
        cell = runtime.locator.locate(*POINT)
        runtime.workers.replace_all([_worker(w, cell.micro) for w in ("WP1", "WP2", "WP3")],
                                    actor="test", role="admin")
        scope = Scope(Reach.GRIDS, frozenset([cell.micro, cell.general, cell.total]))
        for name in ("WP1", "WP2"):
            runtime.auth.add_user(name, role=Role.WORKER, password=PASSWORD, scope=scope)
        runtime.auth.add_user("wp-leader", role=Role.LEADER, password=PASSWORD)
        yield SimpleNamespace(server=client.application, runtime=runtime, tokens=tokens,
                              data_dir=data_dir, redis_url=redis_server.url,
                              cache_dir=cache_dir)


def _signed_in(env, name: str):
    client = env.server.test_client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
    resp = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": csrf,
                                       "next": "/m/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/m/"
    return client


def _task(env, worker: str) -> dict:
    runtime = env.runtime
    event = runtime.intake.submit(Report(data=parse({
        "category": "06002", "lon": POINT[0], "lat": POINT[1], "description": "路灯不亮"}),
        source=Source.API), actor=OPERATOR).id
    return runtime.tasks.assign(event, worker, actor=OPERATOR)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def _upload(client, task_id: str, data: bytes, filename: str = "photo.jpg", headers=None):
    return client.post(f"/api/v1/tasks/{task_id}/photos", headers=headers or ORIGIN,
                       data={"photo": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


# --- the page ----------------------------------------------------------------------------------

def test_anyone_signed_out_is_sent_to_sign_in_and_back(env):
    resp = env.server.test_client().get("/m/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?next=%2Fm%2F"


def test_a_worker_gets_the_page_with_no_inline_code(env):
    resp = _signed_in(env, "WP1").get("/m/")
    assert resp.status_code == 200
    page = resp.text
    assert "我的任务" in page and "网格员WP1" in page
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy
    assert "connect-src 'self' ws://localhost wss://localhost;" in policy
    scripts = re.findall(r"<script([^>]*)>", page)
    parts = ("queue", "live", "tasks", "steps", "position", "wishes", "drills", "go")
    assert scripts == [' src="/assets/worker.js"',
                       *(f' src="/assets/worker/{part}.js"' for part in parts)]
    assert not re.search(r"\son[a-z]+=", page), "no inline event handlers"
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page), "nothing from elsewhere"
    assert 'value="06002"' in page  # the residents' categories, for a report from here


def test_a_role_without_field_work_is_refused(env):
    resp = _signed_in(env, "wp-leader").get("/m/")
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


def test_every_worker_step_has_words_and_says_what_it_needs():
    vocab = vocabulary()
    assert [s["to"] for s in vocab["steps"][TaskStatus.ASSIGNED]] == ["accepted", "declined"]
    worker_steps = {(a.value, b.value) for (a, b), step in STEPS.items()
                    if a is not None and step.by is StepActor.WORKER}
    offered = {(a, s["to"]) for a, steps in vocab["steps"].items() for s in steps}
    assert offered == worker_steps
    resolve = next(s for s in vocab["steps"][TaskStatus.ON_SITE] if s["to"] == "resolved")
    assert resolve["note"] and resolve["photos"] and not resolve["reason"]
    decline = next(s for s in vocab["steps"][TaskStatus.ASSIGNED] if s["to"] == "declined")
    assert decline["reason"]


# --- the one-time link -------------------------------------------------------------------------

def _cli_env(env) -> dict[str, str]:
    return {"REDIS_URL": env.redis_url, "GRID_DISPATCH_DATA_DIR": str(env.data_dir),
            "GRID_DISPATCH_CACHE_DIR": str(env.cache_dir)}


def test_the_command_makes_the_account_and_the_link_signs_in_once(env):
    result = CliRunner().invoke(main, ["workers", "link", "WP3", "--base-url",
                                       "https://gd.example.cn/", "--ttl", "5"],
                                env=_cli_env(env))
    assert result.exit_code == 0, result.output
    url = re.search(r"^https://gd\.example\.cn/m/link/(\S+)$", result.stdout, re.M)
    assert url, result.stdout
    token = url[1]
    account = next(u for u in env.runtime.auth.users() if u["name"] == "WP3")
    cell = env.runtime.locator.locate(*POINT)
    assert account["role"] == "worker"
    assert account["scope"] == f"grids:{','.join(sorted([cell.micro, cell.general, cell.total]))}"
    ttl = env.runtime.store._r.ttl(LinkStore.of(env.runtime.store).key_of(token))
    assert 290 < ttl <= 300

    phone = env.server.test_client()
    resp = phone.get(f"/m/link/{token}")
    assert resp.status_code == 302 and resp.headers["Location"] == "/m/"
    assert phone.get("/m/").status_code == 200

    again = env.server.test_client()
    resp = again.get(f"/m/link/{token}")
    assert resp.status_code == 410 and "登录链接已失效" in resp.text
    assert again.get("/m/").status_code == 302  # still signed out


def test_an_expired_link_signs_no_one_in(env):
    links = LinkStore.of(env.runtime.store)
    token = links.issue("WP1", ttl_s=900)
    env.runtime.store._r.pexpireat(links.key_of(token), 1)  # its time is past
    client = env.server.test_client()
    resp = client.get(f"/m/link/{token}")
    assert resp.status_code == 410 and "已超过有效时间" in resp.text
    assert client.get("/m/").status_code == 302


def test_the_command_refuses_a_worker_not_on_the_roster(env):
    result = CliRunner().invoke(main, ["workers", "link", "NOBODY"], env=_cli_env(env))
    assert result.exit_code != 0 and "not on the roster" in result.output


# --- photos ------------------------------------------------------------------------------------

def test_the_tasks_worker_uploads_a_photo_and_cites_it(env):
    client = _signed_in(env, "WP1")
    task = _task(env, "WP1")
    jpeg = _jpeg()
    resp = _upload(client, task["id"], jpeg)
    assert resp.status_code == 201, resp.get_json()
    url = resp.get_json()["url"]
    name = url.rsplit("/", 1)[1]
    assert re.fullmatch(rf"/api/v1/tasks/{re.escape(task['id'])}/photos/[0-9a-f]{{64}}\.jpg",
                        url)
    assert (env.data_dir / "photos" / task["id"] / name).read_bytes() == jpeg
    assert _upload(client, task["id"], jpeg).get_json()["url"] == url  # a resend: same photo
    shown = client.get(url)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg" and shown.data == jpeg
    for status in ("accepted", "en_route", "on_site"):
        assert client.post(f"/api/v1/tasks/{task['id']}/steps", json={"status": status},
                           headers=ORIGIN).status_code == 200
    done = client.post(f"/api/v1/tasks/{task['id']}/steps", headers=ORIGIN,
                       json={"status": "resolved", "note": "已更换灯泡", "photos": [url]})
    assert done.status_code == 200 and done.get_json()["photos"] == [url]


def test_the_centre_may_upload_too(env):
    task = _task(env, "WP1")
    resp = _upload(env.server.test_client(), task["id"], _jpeg(), headers={
        "Authorization": f"Bearer {env.tokens[Role.OPERATOR]}"})
    assert resp.status_code == 201


def test_a_text_file_named_jpg_is_refused_naming_the_field(env):
    task = _task(env, "WP1")
    resp = _upload(_signed_in(env, "WP1"), task["id"], b"just some text\n" * 10, "fake.jpg")
    assert resp.status_code == 422 and resp.get_json()["field"] == "photo"
    assert not (env.data_dir / "photos" / task["id"]).exists()


@pytest.mark.parametrize("size", [5 * 1024 * 1024 + 1, 7 * 1024 * 1024])
def test_a_photo_over_5_mb_is_refused(env, size):
    task = _task(env, "WP1")
    big = b"\xff\xd8\xff\xe0" + b"\0" * (size - 4)
    resp = _upload(_signed_in(env, "WP1"), task["id"], big)
    assert resp.status_code == 413 and resp.get_json()["field"] == "photo"


def test_another_worker_may_not_upload(env):
    task = _task(env, "WP1")
    resp = _upload(_signed_in(env, "WP2"), task["id"], _jpeg())
    assert resp.status_code == 403
    assert not (env.data_dir / "photos" / task["id"]).exists()


def test_an_unknown_photo_name_is_not_found(env):
    task = _task(env, "WP1")
    client = _signed_in(env, "WP1")
    for name in ("../../data.key", "a" * 64 + ".jpg", "x.gif"):
        assert client.get(f"/api/v1/tasks/{task['id']}/photos/{name}").status_code == 404


@pytest.mark.parametrize(("name", "lands"), [("WP2", "/m/"), ("wp-leader", "/")])
def test_signing_in_without_a_destination_lands_on_the_roles_page(env, name, lands):
    client = env.server.test_client()
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
    resp = client.post("/login", data={"username": name, "password": PASSWORD, "csrf": csrf})
    assert resp.status_code == 302 and resp.headers["Location"] == lands
