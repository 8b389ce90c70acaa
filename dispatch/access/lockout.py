"""Guessing passwords is slowed per account and per address, then stopped for a while.

An account locks after ``ACCOUNT_LIMIT`` failures in ``WINDOW_S`` whoever tries, so a
distributed guess gains nothing; an address locks after ``ADDRESS_LIMIT`` failures, so one
machine cannot walk through the accounts. Unknown names count like known ones: a lock says
nothing about whether an account exists. A correct password during a lock is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.store.auth import SignInFailures

ACCOUNT_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW_S = 15 * 60


class SignInLocked(PermissionError):
    """Too many failures; carries how long to wait."""

    def __init__(self, kind: str, retry_after_s: float) -> None:
        super().__init__(f"too many failed sign-ins from this {kind}; try again in "
                         f"{max(1, round(retry_after_s / 60))} min")
        self.kind = kind
        self.retry_after_s = retry_after_s


@dataclass
class SignInGuard:
    failures: SignInFailures
    account_limit: int = ACCOUNT_LIMIT
    address_limit: int = ADDRESS_LIMIT
    window_s: int = WINDOW_S

    def check(self, *, account: str, address: str) -> None:
        """Raise SignInLocked when the account or the address has used up its attempts."""
        for kind, who, limit in (("account", account.lower(), self.account_limit),
                                 ("address", address, self.address_limit)):
            count, remaining = self.failures.get(kind, who)
            if count >= limit:
                raise SignInLocked(kind, remaining or self.window_s)

    def failed(self, *, account: str, address: str) -> None:
        self.failures.add("account", account.lower(), window_s=self.window_s)
        self.failures.add("address", address, window_s=self.window_s)

    def succeeded(self, *, account: str) -> None:
        self.failures.clear("account", account.lower())
