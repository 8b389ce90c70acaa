"""The grant table and require(): roles, anonymous callers, and scopes that only narrow."""

from __future__ import annotations

import pytest

from dispatch.access.policy import (
    ANONYMOUS,
    GRANTS,
    Forbidden,
    Permission,
    Unauthenticated,
    grant,
    holders,
    matrix,
    permits,
    require,
)
from dispatch.access.roles import Actor, Role
from dispatch.access.scope import DISTRICT, Reach, Scope, ScopeError, parse_scope

P = Permission
STREET = "510124001"
OTHER = "510124002"


def test_anonymous_holds_only_public_things():
    assert set(ANONYMOUS) == {P.PUBLIC, P.OPEN311_READ, P.RESIDENT_REPORT}
    with pytest.raises(Unauthenticated, match=r"event\.read"):
        require(None, P.EVENT_READ)
    assert require(None, P.RESIDENT_REPORT) == DISTRICT


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_row_holding_at_least_the_public(role):
    assert set(ANONYMOUS) <= set(GRANTS[role])


def test_a_role_without_the_grant_is_forbidden_naming_role_permission_and_holders():
    with pytest.raises(Forbidden) as caught:
        require(Actor("dev-1", Role.DEVICE), P.EVENT_READ)
    text = str(caught.value)
    assert "'device'" in text and "event.read" in text and "operator" in text
    assert caught.value.permission is P.EVENT_READ


def test_the_workflow_split_is_in_the_table():
    assert holders(P.EVENT_MANAGE) == [Role.OPERATOR, Role.ADMIN]
    assert Role.WORKER in holders(P.EVENT_HANDLE)
    assert permits(Actor("sys", Role.SYSTEM), P.EVENT_ARCHIVE)
    assert not permits(None, P.PAGE_VIEW)


def test_scope_narrows_but_never_widens():
    street = Actor("li", Role.LEADER, scope=Scope(Reach.STREET, frozenset({STREET})))
    assert require(street, P.EVENT_READ) == street.scope
    assert require(street, P.EVENT_READ, street=STREET, grids=()) == street.scope
    with pytest.raises(Forbidden, match="outside your scope"):
        require(street, P.EVENT_READ, street=OTHER, grids=())
    # a grant held only to grids leaves a street-wide account with nothing
    assert street.scope.within(Reach.GRIDS) == Scope(Reach.GRIDS)
    assert not Scope(Reach.GRIDS).admits(street=STREET, grids=("a", "b"))


def test_grid_scope_admits_any_tier_of_the_chain():
    scope = Scope(Reach.GRIDS, frozenset({"5101240010010"}))
    assert scope.admits(street=OTHER, grids=("5101240010010001", "5101240010010", "x"))
    assert not scope.admits(street=STREET, grids=("5101240010020001", "5101240010020"))


@pytest.mark.parametrize("text, expected", [
    ("", DISTRICT), ("district", DISTRICT),
    ("street:510124001", Scope(Reach.STREET, frozenset({"510124001"}))),
    ("grids:a, b", Scope(Reach.GRIDS, frozenset({"a", "b"}))),
])
def test_scope_texts_round_trip(text, expected):
    scope = parse_scope(text)
    assert scope == expected and parse_scope(str(scope)) == scope


@pytest.mark.parametrize("text", ["city", "street:", "grids: , ", "streets:1"])
def test_bad_scope_texts_are_refused_naming_them(text):
    with pytest.raises(ScopeError) as caught:
        parse_scope(text)
    assert caught.value.text == text.strip()


def test_matrix_has_a_row_per_permission_and_a_column_per_caller():
    lines = matrix().splitlines()
    assert len(lines) == 2 + len(Permission)
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    assert head == ["permission", "anonymous", *(r.value for r in Role)]
    row = next(line for line in lines if line.startswith("| `event.manage`"))
    cells = [c.strip() for c in row.strip("|").split("|")][1:]
    assert cells == [("district" if grant(r, P.EVENT_MANAGE) else "·")
                     for r in [None, *Role]]
