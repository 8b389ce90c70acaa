"""Intake problems in a resident's words, each placed beside the form field it is about.

Intake names fields by the event model (``reporter_phone``, ``lon,lat``); the form names them
as a resident sees them. Every problem is shown: one with no field of its own goes to the
top of the form, so nothing the server refused is left unexplained.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dispatch.channels.resident.token import FormTokenError
from dispatch.events.intake import Problem

#: Event model field → form slot.
SLOTS = {
    "category": "category", "description": "description", "reporter_name": "name",
    "reporter_phone": "phone", "lon": "place", "lat": "place", "lon,lat": "place",
    "address": "place", "building": "place", "micro": "micro", "token": "form",
}
#: What to tell a resident, in Chinese, per slot; the English line is the problem itself.
ZH = {
    "category": "请选择问题类型",
    "description": "请写下情况说明（1 至 2000 字）",
    "name": "称呼最多 50 个字",
    "phone": "手机号码格式不对，请检查",
    "place": "位置无法识别，请改用二维码所在网格的位置",
    "micro": "请选择所在楼栋或院落",
    "form": "页面已过期，请检查内容后再点一次“提交”",
    "other": "提交的内容有误，请检查后再试",
}

#: The field's English name, so the English line reads on its own.
EN = {"category": "Type", "description": "Description", "name": "Name", "phone": "Phone",
      "place": "Location", "micro": "Building", "form": "Form", "other": "Form"}


@dataclass(frozen=True, slots=True)
class FieldError:
    zh: str
    en: str


def field_errors(problems: Iterable[Problem]) -> dict[str, FieldError]:
    """Slot → its message; several problems on one slot are joined, unknown fields → other."""
    grouped: dict[str, list[str]] = {}
    for p in problems:
        slot = SLOTS.get(p.field, "other")
        text = f"{p.field}: {p.message}" if slot == "other" else p.message
        grouped.setdefault(slot, []).append(text)
    return {slot: FieldError(zh=ZH[slot], en=f"{EN[slot]}: {'; '.join(dict.fromkeys(texts))}")
            for slot, texts in grouped.items()}


def token_problem(exc: FormTokenError) -> Problem:
    return Problem("token", f"form token {exc.reason}; please submit it again")
