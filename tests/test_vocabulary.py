"""Statuses, change kinds and Redis key names are spelled once, in Python (the enums and
``dispatch.store.keys``): the store's Lua and the page's script get them from there."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.i18n import status_vocabulary
from dispatch.events.models import ChangeKind, Status
from dispatch.store import keys, lua

ROOT = Path(__file__).resolve().parents[1]
LUA_SOURCE = (ROOT / "dispatch" / "store" / "lua.py").read_text(encoding="utf-8")
LIVE_JS = (ROOT / "assets" / "live.js").read_text(encoding="utf-8")
SCRIPTS = {"CREATE_MANY": lua.CREATE_MANY, "TRANSITION": lua.TRANSITION,
           "ESCALATE": lua.ESCALATE, "UPGRADE_SCORES": lua.UPGRADE_SCORES}


def _key_names() -> list[str]:
    """Every key and prefix keys.py defines that holds a colon (bare words such as
    ``changes`` also name JSON fields, so they cannot be told apart in a script)."""
    return [v for k, v in vars(keys).items() if k.isupper() and isinstance(v, str) and ":" in v]


def _quoted(text: str, value: str, *, prefix: bool = False) -> bool:
    """Whether ``text`` holds ``value`` as a quoted literal (or the start of one)."""
    end = "" if prefix else "['\"`]"
    return re.search("['\"`]" + re.escape(value) + end, text) is not None


def test_the_scripts_closed_set_is_the_enums():
    named = set(re.findall(r"\['(\w+)'\]=true", lua.CLOSED_LUA))
    assert named == {s.value for s in Status if not s.open}
    assert "__CLOSED__" not in lua.CREATE_MANY and lua.CLOSED_LUA in lua.CREATE_MANY


def test_no_script_spells_a_status_itself():
    for text in [*SCRIPTS.values(), LIVE_JS]:
        body = text.replace(lua.CLOSED_LUA, "")
        for status in Status:
            assert f"'{status.value}'" not in body and f'"{status.value}"' not in body, status


def test_every_placeholder_is_filled():
    for name, script in SCRIPTS.items():
        assert not lua.PLACEHOLDER.search(script), name


def test_the_lua_source_spells_no_status_kind_or_key():
    for status in Status:
        assert not _quoted(LUA_SOURCE, status.value), status
    for kind in ChangeKind:
        assert not _quoted(LUA_SOURCE, kind.value), kind
    for name in _key_names():
        assert not _quoted(LUA_SOURCE, name, prefix=True), name


def test_the_scripts_write_the_enums_kinds():
    written = {k for script in SCRIPTS.values()
               for k in re.findall(r"'kind', '([\w.]+)'", script)}
    assert written == {ChangeKind.CREATED, ChangeKind.REPEATED, ChangeKind.TRANSITION,
                       ChangeKind.ESCALATED}


def test_the_page_script_spells_no_change_kind_or_key():
    for kind in ChangeKind:
        assert not _quoted(LIVE_JS, kind.value), kind
    for name in _key_names():
        assert not _quoted(LIVE_JS, name, prefix=True), name


def test_the_page_gets_open_statuses_every_label_and_the_change_kinds():
    vocab = status_vocabulary()
    assert vocab["open"] == [s.value for s in Status if s.open]
    for lang in ("zh", "en"):
        assert set(vocab["labels"][lang]) == {s.value for s in Status}
        assert all(vocab["labels"][lang].values())
    assert vocab["kinds"] == {k.name.lower(): k.value for k in ChangeKind}
    assert "parsed.kinds" in LIVE_JS  # the page script keeps what the server sent
