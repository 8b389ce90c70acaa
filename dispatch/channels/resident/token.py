"""One signed token per rendered form: the proof a post came from a form this server gave out
for this grid, and the idempotency key that turns a double tap into one event.

Signing (with the app's secret) means a script cannot post without first fetching a form, and
a token cannot be moved to another grid. It expires well inside the store's 24-hour
idempotency window, so a token that still verifies always finds its first event.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

#: How long a form stays valid: a resident may leave it open, but not past the store's
#: idempotency window (24 h), or a late double tap could store twice.
MAX_AGE_S = 12 * 3600
_SALT = "grid-dispatch.resident-form"


class FormTokenError(ValueError):
    """The form's token is missing, forged, for another grid or too old."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(f"form token {token[:24]!r}…: {reason}")
        self.token = token
        self.reason = reason


class FormToken:
    """Issues and checks tokens bound to one grid code; ``check`` returns the one-time nonce."""

    def __init__(self, secret: str | bytes, *, max_age_s: int = MAX_AGE_S) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt=_SALT)
        self._max_age_s = max_age_s

    def issue(self, grid: str) -> str:
        return self._signer.dumps({"g": grid, "n": secrets.token_urlsafe(16)})

    def check(self, token: str, *, grid: str) -> str:
        if not token:
            raise FormTokenError(token, "missing")
        try:
            body = self._signer.loads(token, max_age=self._max_age_s)
        except SignatureExpired:
            raise FormTokenError(token, "expired") from None
        except BadSignature:
            raise FormTokenError(token, "not issued by this server") from None
        if not isinstance(body, dict) or body.get("g") != grid or not body.get("n"):
            raise FormTokenError(token, f"not issued for grid {grid!r}")
        return str(body["n"])
