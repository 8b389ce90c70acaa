"""Where an actor may act: the whole district, some streets, or some grids."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum


class Reach(IntEnum):
    """How far a grant or a scope extends; a larger value covers more."""

    GRIDS = 1
    STREET = 2
    DISTRICT = 3

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Scope:
    """Where an actor may act: the district, some streets, or some grids (any tier)."""

    reach: Reach = Reach.DISTRICT
    codes: frozenset[str] = frozenset()

    def admits(self, *, street: str, grids: Iterable[str]) -> bool:
        """Whether a place (its street and its grid chain) lies inside this scope."""
        if self.reach is Reach.DISTRICT:
            return True
        if self.reach is Reach.STREET:
            return street in self.codes
        return not self.codes.isdisjoint(grids)

    def within(self, ceiling: Reach) -> Scope:
        """This scope held to a grant's reach: narrower stays, wider becomes nothing."""
        return self if self.reach <= ceiling else Scope(ceiling)

    def __str__(self) -> str:
        if self.reach is Reach.DISTRICT:
            return "district"
        return f"{self.reach.label}:{','.join(sorted(self.codes))}"


DISTRICT = Scope()


class ScopeError(ValueError):
    """A scope text that does not read as ``district``, ``street:CODE…`` or ``grids:CODE…``."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(f"scope {text!r}: {message}")
        self.text = text


def parse_scope(text: str) -> Scope:
    """``district``, ``street:510124001[,…]`` or ``grids:51012400100101[,…]``."""
    raw = (text or "district").strip()
    if raw == "district":
        return DISTRICT
    kind, _, codes = raw.partition(":")
    reach = {"street": Reach.STREET, "grids": Reach.GRIDS}.get(kind)
    if reach is None:
        raise ScopeError(raw, "must be 'district', 'street:CODE[,CODE…]' or "
                              "'grids:CODE[,CODE…]'")
    found = frozenset(c.strip() for c in codes.split(",") if c.strip())
    if not found:
        raise ScopeError(raw, f"names no {kind} code")
    return Scope(reach, found)
