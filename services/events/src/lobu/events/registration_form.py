"""The registration form on an action's page: reading it, German messages, the CSRF token.

The form posts `name`, `email`, `seats` and `csrf` (urlencoded, read with the standard
library). There is no sign-in yet, so the CSRF token is a double-submit one: a random
value in a cookie (SameSite=Strict, HttpOnly) and, in the form, an HMAC of that value
and the action's id under the service's secret. Another site can make a browser post
the form, but it can neither read nor set our cookie, so it cannot produce the field.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from pydantic import TypeAdapter, ValidationError
from pydantic.networks import EmailStr

from lobu.events.schemas import RegistrationCreate
from lobu.shared.input_text import text_problem

CSRF_COOKIE = "lobu_events_csrf"
MAX_FORM_BYTES = 16 * 1024
MAX_NAME = 200
MAX_EMAIL = 320
_SEATS = re.compile(r"[0-9]{1,4}", re.ASCII)
_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)
UNSTORABLE = (
    "Diese Angabe enthält ein Zeichen, das wir nicht speichern können (ein Nullzeichen oder "
    "ein ungültiges Unicode-Zeichen). Bitte entfernen Sie es."
)


def new_csrf_cookie() -> str:
    """A fresh random value for the cookie."""
    return secrets.token_urlsafe(24)


def csrf_field(secret: str, cookie: str, action_id: str) -> str:
    """The form's token for this cookie and action."""
    message = f"{cookie}:{action_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def csrf_valid(secret: str, cookie: str | None, action_id: str, sent: str) -> bool:
    """Whether the form's token belongs to this browser's cookie and this action."""
    if not cookie or not sent:
        return False
    return hmac.compare_digest(csrf_field(secret, cookie, action_id), sent)


@dataclass
class RegistrationForm:
    """What was typed (to show it again), the request it makes, and a message per wrong field."""

    values: dict[str, str]
    csrf: str = ""
    request: RegistrationCreate | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_registration_form(body: bytes, *, max_seats: int) -> RegistrationForm:
    """The posted form; `request` is set when every field is right."""
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), keep_blank_values=True)
    values = {name: fields.get(name, [""])[0].strip() for name in ("name", "email", "seats")}
    form = RegistrationForm(values=values, csrf=fields.get("csrf", [""])[0])
    unstorable = [name for name, value in values.items() if text_problem(value)]
    for name in unstorable:
        # PostgreSQL's text refuses U+0000: said here, next to the field, not a 500 later.
        form.errors[name] = UNSTORABLE
    if unstorable:
        return form
    if not values["name"]:
        form.errors["name"] = "Bitte geben Sie Ihren Namen an."
    elif len(values["name"]) > MAX_NAME:
        form.errors["name"] = f"Bitte höchstens {MAX_NAME} Zeichen eingeben."
    email = values["email"]
    if not email:
        form.errors["email"] = (
            "Bitte geben Sie Ihre E-Mail-Adresse an; dorthin kommt die Bestätigung."
        )
    else:
        try:
            if len(email) > MAX_EMAIL:
                raise ValueError("too long")
            _EMAIL.validate_python(email)
        except (ValidationError, ValueError):
            form.errors["email"] = (
                "Diese E-Mail-Adresse scheint nicht zu stimmen. Bitte prüfen Sie sie "
                "(z. B. name@beispiel.de)."
            )
    seats = values["seats"] or "1"
    if not _SEATS.fullmatch(seats) or not 1 <= int(seats) <= max_seats:
        form.errors["seats"] = f"Bitte eine Zahl von 1 bis {max_seats} Plätzen angeben."
    if not form.errors:
        form.request = RegistrationCreate(name=values["name"], email=email, seats=int(seats))
    return form
