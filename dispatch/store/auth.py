"""Users and API tokens in Redis. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import time

import redis
from redis.typing import EncodableT, FieldT

from dispatch.events.models import ChangeKind
from dispatch.store import keys
from dispatch.store.core import as_hash, as_members


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


#: How long an expired token's record stays, to say "expired" rather than "unknown".
EXPIRED_KEPT_MS = 60_000


class AuthStore:
    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def put_user(self, name: str, *, role: str, password_hash: str, display: str = "",
                 scope: str = "district", demo: bool = False) -> None:
        """Create or replace an account; replacing a demo account's password makes it an
        ordinary one unless ``demo`` says otherwise."""
        self._r.hset(keys.user(name), mapping={
            "name": name, "role": role, "password_hash": password_hash, "scope": scope,
            "display": display or name, "created_at": f"{time.time():.3f}",
            "demo": "1" if demo else ""})
        self._r.sadd(keys.USERS, name)

    def user(self, name: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(keys.user(name))) or None

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Marks an existing user; False when there is no such user."""
        if not self._r.exists(keys.user(name)):
            return False
        self._r.hset(keys.user(name), "disabled", "1" if disabled else "")
        return True

    def set_demo(self, name: str) -> bool:
        """Marks an existing user as a demo account; False when there is no such user."""
        if not self._r.exists(keys.user(name)):
            return False
        self._r.hset(keys.user(name), "demo", "1")
        return True

    def remove_user(self, name: str) -> bool:
        with self._r.pipeline(transaction=True) as pipe:
            pipe.srem(keys.USERS, name)
            pipe.delete(keys.user(name))
            _, deleted = pipe.execute()
        return bool(deleted)

    def users(self) -> list[dict[str, str]]:
        names = sorted(as_members(self._r.smembers(keys.USERS)))
        with self._r.pipeline(transaction=False) as pipe:
            for n in names:
                pipe.hgetall(keys.user(n))
            return [as_hash(u) for u in pipe.execute() if u]

    def put_token(self, token: str, *, name: str, role: str, scope: str = "district",
                  expires_at: float | None = None, device: str = "") -> str:
        """Stores the token's digest; an expiring token's hash also expires in Redis, a minute
        after the token, so a caller in that minute is told it expired (not that it is
        unknown)."""
        digest = token_digest(token)
        record: dict[FieldT, EncodableT] = {"name": name, "role": role, "scope": scope,
                  "created_at": f"{time.time():.3f}",
                  "expires_at": "" if expires_at is None else f"{expires_at:.3f}",
                  "device": device}
        with self._r.pipeline(transaction=True) as pipe:
            pipe.hset(keys.token(digest), mapping=record)
            if expires_at is not None:
                pipe.pexpireat(keys.token(digest), round(expires_at * 1000) + EXPIRED_KEPT_MS)
            pipe.sadd(keys.TOKENS, digest)
            pipe.execute()
        return digest

    def tokens(self) -> list[dict[str, str]]:
        """Every live token's record with its ``digest``; expired ones leave the set here."""
        digests = sorted(as_members(self._r.smembers(keys.TOKENS)))
        with self._r.pipeline(transaction=False) as pipe:
            for d in digests:
                pipe.hgetall(keys.token(d))
            records = pipe.execute()
        gone = [d for d, r in zip(digests, records, strict=True) if not r]
        if gone:
            self._r.srem(keys.TOKENS, *gone)
        now = time.time()
        return [as_hash(r) | {"digest": d} for d, r in zip(digests, records, strict=True)
                if r and not (r.get("expires_at") and float(r["expires_at"]) <= now)]

    def token(self, token: str) -> dict[str, str] | None:
        return as_hash(self._r.hgetall(keys.token(token_digest(token)))) or None

    def device_registered(self, device_id: str) -> bool:
        """Whether the IoT registry holds this device (a device token is bound to one)."""
        return bool(self._r.exists(keys.device(device_id)))

    def revoke_token(self, digest: str, *, actor: str = "") -> bool:
        """Deletes the token and, in the same transaction, tells every process's live feed
        (the change stream) to close the websockets it opened."""
        with self._r.pipeline(transaction=True) as pipe:
            pipe.srem(keys.TOKENS, digest)
            pipe.delete(keys.token(digest))
            pipe.xadd(keys.CHANGES, {"kind": ChangeKind.TOKEN_REVOKED.value, "token": digest,
                                     "actor": actor, "at": f"{time.time():.3f}"})
            _, deleted, _ = pipe.execute()
        return bool(deleted)


class SignInFailures:
    """Failed sign-ins counted per account and per address, each in its own window."""

    def __init__(self, client: redis.Redis) -> None:
        self._r = client

    def add(self, kind: str, who: str, *, window_s: int) -> int:
        key = keys.sign_in_failures(kind, who)
        with self._r.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, window_s, nx=True)
            count, _ = pipe.execute()
        return int(count)

    def get(self, kind: str, who: str) -> tuple[int, float]:
        """(failures in the window, seconds until the window ends)."""
        key = keys.sign_in_failures(kind, who)
        with self._r.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            count, ttl_ms = pipe.execute()
        return int(count or 0), max(int(ttl_ms), 0) / 1000

    def clear(self, kind: str, who: str) -> None:
        self._r.delete(keys.sign_in_failures(kind, who))

    def clear_all(self) -> int:
        """Lift every lock at once (an administrator's unlock, a benchmark between rounds);
        returns how many counters were dropped."""
        found = list(self._r.scan_iter(match=keys.sign_in_failures("*", "*"), count=1000))
        return int(self._r.delete(*found)) if found else 0
