"""POST requests: a GeoReport form becomes one of our reports, or spec errors naming the field.

We locate by ``lat``/``long`` only: an ``address_string`` alone cannot be placed in a grid, so
it is kept as the address but does not stand in for coordinates. ``description`` is optional
in the spec and required by us, so the service name stands in when it is missing.
Reporter contact details follow our personal-data rules: the phone is masked when stored and
the e-mail address is kept masked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from dispatch.channels.open311.spec import Open311Error, SpecError
from dispatch.events.intake import IntakeError, Problem, Report, parse
from dispatch.events.models import Source, categories

#: Our intake field → the GeoReport argument a client sent it as.
_ARGUMENT = {
    "lon": "long", "lat": "lat", "lon,lat": "lat,long", "reporter_phone": "phone",
    "reporter_name": "first_name,last_name", "attachments": "media_url",
    "attachments.0": "media_url", "address": "address_string", "category": "service_code",
    "description": "description", "body": "body",
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 254


def report_from_form(form: Mapping[str, str], *, idempotency_key: str = "") -> Report:
    """Validate a POST form; raises Open311Error (400, or 404 for an unknown service_code)."""
    code = _text(form, "service_code")
    if not code:
        raise Open311Error.one(400, "service_code", "service_code was not provided")
    if code not in categories():
        raise Open311Error.one(404, "service_code", f"service_code {code!r} was not found")
    lon, lat = _coordinates(form)
    payload = {
        "category": code, "lon": lon, "lat": lat,
        "description": _text(form, "description") or categories()[code].name,
        "address": _text(form, "address_string"),
        "reporter_name": full_name(_text(form, "first_name"), _text(form, "last_name")),
        "reporter_phone": _text(form, "phone"),
        "attachments": [url for url in [_text(form, "media_url")] if url],
    }
    try:
        data = parse(payload)
    except IntakeError as exc:
        raise spec_errors(exc) from None
    return Report(data=data, source=Source.OPEN311, idempotency_key=idempotency_key,
                  extra={"open311": _extra(form)})


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _coordinates(form: Mapping[str, str]) -> tuple[float, float]:
    missing = [n for n in ("lat", "long") if not _text(form, n)]
    if missing:
        raise Open311Error.one(400, ",".join(missing), "lat and long are both required; an "
                               "address_string alone cannot be placed in a grid")
    values = {}
    for name in ("long", "lat"):
        try:
            values[name] = float(_text(form, name))
        except ValueError:
            values[name] = math.nan
        if not math.isfinite(values[name]):
            raise Open311Error.one(400, name, f"{_text(form, name)!r} is not a number "
                                   "(WGS-84 degrees)")
    return values["long"], values["lat"]


def full_name(first: str, last: str) -> str:
    """Chinese names put the family name first with no space; others "first last"."""
    if _CJK.search(first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


def _extra(form: Mapping[str, str]) -> dict[str, str]:
    email = _text(form, "email")
    if len(email) > MAX_EMAIL:
        raise Open311Error.one(400, "email", f"is longer than {MAX_EMAIL} characters, "
                               "the most an e-mail address can have (RFC 5321)")
    if email and not _EMAIL.match(email):
        raise Open311Error.one(400, "email", f"{email!r} is not an e-mail address")
    kept = {"email": email,  # sealed with the rest of the channel's details
            "device_id": _text(form, "device_id")[:64],
            "account_id": _text(form, "account_id")[:64],
            "jurisdiction_id": _text(form, "jurisdiction_id")[:64]}
    return {k: v for k, v in kept.items() if v}


def spec_errors(exc: IntakeError) -> Open311Error:
    """Our intake problems under the argument names the client used (all 400s)."""
    return Open311Error([_spec(p) for p in exc.problems], status=400)


def _spec(problem: Problem) -> SpecError:
    return SpecError(400, _ARGUMENT.get(problem.field, problem.field), problem.message)
