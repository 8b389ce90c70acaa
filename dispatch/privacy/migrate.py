"""Events stored before personal data was sealed: sealed and scrubbed once, in place.

Intake seals contacts and keeps text scrubbed as it stores; this brings older data to the same
shape, so every read can trust what is stored instead of scrubbing it again. It runs when a
process first serves events, pages through every event newest first (an event stored meanwhile
only shifts the pages, so nothing is skipped), and is idempotent: sealed values and scrubbed
text are left as they are. A marker in Redis records that it is done.
"""

from __future__ import annotations

from dispatch.privacy.disclosure import TEXT_FIELDS, sealed
from dispatch.privacy.scrub import scrub
from dispatch.privacy.vault import Vault, is_sealed
from dispatch.store.events import EventStore

CONTACT_FIELDS = ("reporter_name", "reporter_phone", "extra")
PAGE = 1000


def seal_stored_events(store: EventStore, vault: Vault) -> int:
    """Seal and scrub every event stored before sealing; returns how many changed."""
    if store.privacy_sealed():
        return 0
    changed, offset = 0, 0
    while ids := store.ids_where(offset=offset, limit=PAGE):
        offset += len(ids)
        updates = {h["id"]: fields for h in store.get_many(ids)
                   if (fields := sealed_fields(h, vault))}
        store.set_fields(updates)
        changed += len(updates)
    store.mark_privacy_sealed()
    return changed


def sealed_fields(h: dict[str, str], vault: Vault) -> dict[str, str]:
    """The fields of one stored event that must change for it to be sealed and scrubbed."""
    out = {name: vault.seal(name, h[name]) for name in CONTACT_FIELDS
           if h.get(name) and not is_sealed(h[name])}
    known = tuple(vault.open(n, h.get(n, "")) for n in ("reporter_name", "reporter_phone"))
    for name in TEXT_FIELDS:
        text = h.get(name, "")
        clean = scrub(text, known=known)
        if clean != text:
            out[name] = clean
            if not h.get(sealed(name)):
                out[sealed(name)] = vault.seal(name, text)
    return out
