"""Redis key names are spelled in ``dispatch.store.keys`` only, and stay what stored data uses."""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.store import keys, lua

ROOT = Path(__file__).resolve().parents[3]
STORE = ROOT / "dispatch" / "store"


def _prefixes() -> tuple[str, ...]:
    """Every key and key prefix keys.py defines with a colon (``idx:``, ``grids:active``…).

    Keys without a colon (``changes``, ``users``…) are also ordinary words and JSON field
    names, so a literal of one says nothing. Idempotency values (``12345:<order>``,
    ``resident:<nonce>``) are stored under ``idem:`` by the store: values, not keys.
    """
    named = {v for k, v in vars(keys).items() if k.isupper() and isinstance(v, str)}
    return tuple(sorted(v for v in named if ":" in v))


def _literals(text: str) -> Iterator[tuple[int, str]]:
    """(line, text) of every string literal's opening, f-strings included."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # Python 3.12 and later
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.STRING:
            body = tok.string.lstrip("rRbBuUfF")
            quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
            yield tok.start[0], body[len(quote):-len(quote)]
        elif fstring_start is not None and tok.type == fstring_start and i + 1 < len(tokens):
            yield tokens[i + 1].start[0], tokens[i + 1].string


def _spelled_keys(text: str) -> list[tuple[int, str]]:
    prefixes = _prefixes()
    return [(line, body) for line, body in _literals(text) if body.startswith(prefixes)]


def _sources() -> Iterator[Path]:
    for folder in ("dispatch", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not path.is_relative_to(STORE):
                yield path


def test_no_module_outside_the_store_spells_a_redis_key():
    found = [f"{path.relative_to(ROOT)}:{line}: {body.splitlines()[0]!r}"
             for path in _sources()
             for line, body in _spelled_keys(path.read_text(encoding="utf-8"))]
    assert not found, "Redis keys spelled outside dispatch/store/keys.py:\n" + "\n".join(found)


def test_only_keys_py_spells_them_inside_the_store():
    found = [f"{path.relative_to(ROOT)}:{line}"
             for path in sorted(STORE.glob("*.py")) if path.name != "keys.py"
             for line, _ in _spelled_keys(path.read_text(encoding="utf-8"))]
    assert not found


@pytest.mark.parametrize("code", [
    'index = f"idx:street:{street}" if street else "idx:all"',
    "key = 'ev:' + event_id",
    'r.get(f"lock:{name}")',
    'LIMIT = "grid-dispatch:resident"',
])
def test_the_scan_finds_a_spelled_key(code):
    assert _spelled_keys(code)


@pytest.mark.parametrize("code", [
    'idempotency_key = f"12345:{order}"',
    'room = f"street:{code}"',
    'payload = {"changes": []}',
    'text = "see the idx: keys"',
    'print(f"grid-dispatch: {message}")',
])
def test_the_scan_leaves_values_alone(code):
    assert not _spelled_keys(code)


def test_the_names_are_those_stored_data_uses():
    assert (keys.CHANGES, keys.GRIDS_ACTIVE, keys.LAYOUT, keys.SECRET_KEY) == (
        "changes", "grids:active", "config:layout", "config:secret_key")
    assert (keys.USERS, keys.TOKENS, keys.DEVICES, keys.HOTLINE_ORDERS) == (
        "users", "tokens", "devices", "hotline:orders")
    assert (keys.ALL_INDEX, keys.DUE_INDEX) == ("idx:all", "idx:due")
    assert keys.event("20260101-000001") == "ev:20260101-000001"
    assert keys.event_log("x") == "evlog:x"
    assert keys.sequence("20260101") == "ev:seq:20260101"
    assert keys.idempotency("12345:9") == "idem:12345:9"
    assert keys.dedupe("iot:d:a") == "dedupe:iot:d:a"
    assert keys.status_index("reported") == "idx:st:reported"
    assert keys.street_index("510124001") == "idx:street:510124001"
    assert keys.grid_index("g") == "idx:grid:g"
    assert keys.category_index("01001") == "idx:cat:01001"
    assert keys.user("ops") == "user:ops"
    assert keys.token("ab") == "token:ab"
    assert keys.device("MC-1") == "device:MC-1"
    assert keys.lock("escalator") == "lock:escalator"
    assert keys.RESIDENT_LIMIT_PREFIX == "grid-dispatch:resident"


def test_the_scripts_build_the_same_names():
    create = lua.CREATE_MANY
    for name in ("'ev:' ..", "'evlog:' ..", "'ev:seq:' ..", "'idem:' ..", "'dedupe:' ..",
                 "'idx:all'", "'idx:st:' ..", "'idx:street:' ..", "'idx:grid:' ..",
                 "'idx:cat:' ..", "'idx:due'"):
        assert name in create, name
    assert "'evlog:' .." in lua.TRANSITION and "'evlog:' .." in lua.ESCALATE
    assert "'idx:' .. '*'" in lua.UPGRADE_SCORES


def test_one_index_is_read_for_a_filter_the_narrowest_first():
    assert keys.event_index() == keys.ALL_INDEX
    assert keys.event_index(category="01001") == "idx:cat:01001"
    assert keys.event_index(street="s", category="c") == "idx:street:s"
    assert keys.event_index(status="reported", street="s") == "idx:st:reported"
    assert keys.event_index(grid="g", status="reported", street="s") == "idx:grid:g"
