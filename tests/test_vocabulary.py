"""Statuses are spelled once, in the Python enum: the store's Lua and the page's script get
them from there."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.i18n import status_vocabulary
from dispatch.events.models import Status
from dispatch.store import lua

ROOT = Path(__file__).resolve().parents[1]


def test_the_scripts_closed_set_is_the_enums():
    named = set(re.findall(r"\['(\w+)'\]=true", lua.CLOSED_LUA))
    assert named == {s.value for s in Status if not s.open}
    assert "__CLOSED__" not in lua.CREATE_MANY and lua.CLOSED_LUA in lua.CREATE_MANY


def test_no_script_spells_a_status_itself():
    scripts = [lua.CREATE_MANY, lua.TRANSITION, lua.ESCALATE,
               (ROOT / "assets" / "live.js").read_text(encoding="utf-8")]
    for text in scripts:
        body = text.replace(lua.CLOSED_LUA, "")
        for status in Status:
            assert f"'{status.value}'" not in body and f'"{status.value}"' not in body, status


def test_the_page_gets_open_statuses_and_every_label():
    vocab = status_vocabulary()
    assert vocab["open"] == [s.value for s in Status if s.open]
    for lang in ("zh", "en"):
        assert set(vocab["labels"][lang]) == {s.value for s in Status}
        assert all(vocab["labels"][lang].values())
