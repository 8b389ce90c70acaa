"""Personal data sealed at rest: AES-256-GCM with keys kept outside Redis.

A sealed value reads ``§1:<key id>:<nonce + ciphertext, base64>``; the field name is bound in
as associated data, so a sealed phone cannot be passed off as another field. Several keys may
be given (the first seals, all open), which is how a key is rotated. A value without the
marker is returned as it is: data stored before sealing stays readable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MARK = "§1:"
KEY_BYTES = 32


class DataKeyError(ValueError):
    """A data key that is missing, unreadable or not 32 bytes of base64."""


class SealError(ValueError):
    """A sealed value that no key opens: another site's key, or the value was altered."""

    def __init__(self, field: str, key_id: str) -> None:
        super().__init__(f"sealed {field!r} does not open with the data keys "
                         f"(sealed with key {key_id!r})")
        self.field = field
        self.key_id = key_id


def new_key() -> str:
    """A fresh data key as text (URL-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _decode(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise DataKeyError(f"data key is not base64: {exc}") from exc
    if len(raw) != KEY_BYTES:
        raise DataKeyError(f"data key must be {KEY_BYTES} bytes, got {len(raw)}")
    return raw


class Vault:
    """Seals and opens personal data; one per process, built from the site's keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError("no data key given")
        self._ciphers = {hashlib.sha256(k).hexdigest()[:8]: AESGCM(k)
                         for k in (_decode(t) for t in keys)}
        self.key_id = next(iter(self._ciphers))

    def seal(self, field: str, plain: str) -> str:
        if not plain:
            return ""
        nonce = os.urandom(12)
        sealed = self._ciphers[self.key_id].encrypt(nonce, plain.encode(), field.encode())
        return f"{MARK}{self.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, field: str, stored: str) -> str:
        if not stored.startswith(MARK):
            return stored
        key_id, _, body = stored[len(MARK):].partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealError(field, key_id)
        try:
            raw = base64.b64decode(body, validate=True)
            return cipher.decrypt(raw[:12], raw[12:], field.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise SealError(field, key_id) from exc


def is_sealed(stored: str) -> bool:
    return stored.startswith(MARK)


def load_keys(*, env_value: str | None, key_file: Path, create: bool) -> list[str]:
    """The site's data keys: from the environment, else the key file (made if ``create``)."""
    if env_value:
        return [k for k in (p.strip() for p in env_value.split(",")) if k]
    if key_file.exists():
        return [k for k in (line.strip() for line in key_file.read_text().splitlines())
                if k and not k.startswith("#")]
    if not create:
        raise DataKeyError(
            f"no data key: set GRID_DISPATCH_DATA_KEY, or create the key file {key_file} "
            "with `grid-dispatch keys create` (keep it out of Redis backups)")
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# grid-dispatch data key: seals residents' personal data. Back it up apart "
                 "from Redis; without it sealed data cannot be read.\n" + new_key() + "\n")
    return load_keys(env_value=None, key_file=key_file, create=False)
