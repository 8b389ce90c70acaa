"""Masked forms of personal data, as every screen shows it unless a reveal is granted."""

from __future__ import annotations

import re

_NON_DIGIT = re.compile(r"\D")


def mask_phone(phone: str) -> str:
    """138****5678: the first three and last four digits, enough to recognise a caller."""
    if "*" in phone:
        return phone  # stored masked before phones were sealed
    digits = _NON_DIGIT.sub("", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 8:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_name(name: str) -> str:
    """张*, 欧阳**, J*** D***: the first character of each word, so a caller is addressed
    but not identified."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(mask_name(part) for part in name.split())
    return name[0] + "*" * max(1, len(name) - 1)


def mask_id(number: str) -> str:
    """**************1234: an ID number keeps only its last four characters."""
    raw = re.sub(r"[\s-]", "", number)
    return "*" * max(0, len(raw) - 4) + raw[-4:]
