"""How much of an event's personal data a reader sees, decided once from the access policy."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from dispatch.access.policy import Permission, permits
from dispatch.access.roles import Actor
from dispatch.privacy.mask import mask_name, mask_phone
from dispatch.privacy.scrub import scrub
from dispatch.privacy.vault import Vault


class Disclosure(StrEnum):
    PUBLIC = "public"  # scrubbed text, no reporter: the public, leaders, integrations
    MASKED = "masked"  # whole text and address, reporter masked: who handles the case


def disclosure_for(actor: Actor | None) -> Disclosure:
    return Disclosure.MASKED if permits(actor, Permission.PERSONAL_READ) else Disclosure.PUBLIC


#: Free text an event keeps scrubbed in the clear, with its sealed original beside it.
TEXT_FIELDS = ("description", "address", "building")


def sealed(name: str) -> str:
    """The hash field holding a text field's sealed original."""
    return f"{name}_sealed"


def private_fields(h: dict[str, str], disclosure: Disclosure, vault: Vault) -> dict[str, Any]:
    """The text, reporter and channel details of a stored event as this reader may see them."""
    if disclosure is Disclosure.PUBLIC:
        # stored text is scrubbed (by intake, or once by ``migrate``); a move's reason is not
        text = {name: h.get(name, "") for name in TEXT_FIELDS}
        return text | {"reporter": {"name": "", "phone": "", "masked": True},
                       "extra": {}, "reason": scrub(h.get("reason", ""))}
    text = {name: vault.open(name, h[sealed(name)]) if h.get(sealed(name)) else h.get(name, "")
            for name in TEXT_FIELDS}
    name = vault.open("reporter_name", h.get("reporter_name", ""))
    phone = vault.open("reporter_phone", h.get("reporter_phone", ""))
    extra = vault.open("extra", h.get("extra", "")) or "{}"
    return text | {"reporter": {"name": mask_name(name), "phone": mask_phone(phone),
                                "masked": True},
                   "extra": json.loads(extra), "reason": h.get("reason", "")}


def contact(h: dict[str, str], vault: Vault) -> dict[str, str]:
    """The reporter's name and phone in full: only for a permitted, audited reveal."""
    return {"name": vault.open("reporter_name", h.get("reporter_name", "")),
            "phone": vault.open("reporter_phone", h.get("reporter_phone", ""))}
