"""The contact form of an alliance's page as people fill it in: values and German messages.

Like the search form (search_form.py) the page reads the posted fields itself, so that a
wrong value comes back as the page with the value kept and a message next to its field,
never as problem+json. The limits here are also the form's `maxlength`s. `homepage` is
the honeypot: hidden from people (CSS, `aria-hidden`, no tab stop), filled by bots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from email_validator import EmailNotValidError, validate_email

from lobu.shared.contracts.directory import MAX_CONTACT_MESSAGE
from lobu.shared.input_text import text_problem

MAX_NAME = 100
MAX_EMAIL = 254
MAX_MESSAGE = MAX_CONTACT_MESSAGE
MIN_MESSAGE = 10
MAX_BODY_BYTES = 32_768  # the three fields at their limits, encoded, fit well inside
HONEYPOT = "homepage"
FIELDS = ("name", "email", "nachricht")


@dataclass
class ContactForm:
    """The posted values (for showing them again), a message per wrong field, the honeypot."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    honeypot_filled: bool = False

    @property
    def email(self) -> str:
        """The sender's address as the form holds it."""
        return self.values["email"].strip()


def read_contact_form(body: bytes) -> ContactForm:
    """The form from an `application/x-www-form-urlencoded` body."""
    if len(body) > MAX_BODY_BYTES:
        form = ContactForm(values=dict.fromkeys(FIELDS, ""))
        form.errors["nachricht"] = f"Bitte höchstens {MAX_MESSAGE} Zeichen eingeben."
        return form
    posted = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    form = ContactForm(values={name: posted.get(name, "") for name in FIELDS})
    form.honeypot_filled = bool(posted.get(HONEYPOT, "").strip())
    _check_text(form, "name", "Bitte geben Sie Ihren Namen an.", MAX_NAME)
    _check_text(form, "nachricht", "Bitte schreiben Sie Ihre Nachricht.", MAX_MESSAGE)
    if "nachricht" not in form.errors and len(form.values["nachricht"].strip()) < MIN_MESSAGE:
        form.errors["nachricht"] = f"Bitte schreiben Sie mindestens {MIN_MESSAGE} Zeichen."
    _check_email(form)
    return form


def _check_text(form: ContactForm, name: str, missing: str, limit: int) -> None:
    value = form.values[name]
    if not value.strip():
        form.errors[name] = missing
    elif len(value) > limit:
        form.errors[name] = f"Bitte höchstens {limit} Zeichen eingeben."
    elif text_problem(value) or "\ufffd" in value:
        form.errors[name] = "Der Text enthält ein Zeichen, das wir nicht speichern können."


def _check_email(form: ContactForm) -> None:
    address = form.email
    if not address:
        form.errors["email"] = (
            "Bitte geben Sie Ihre E-Mail-Adresse an, damit das Bündnis antworten kann."
        )
        return
    if len(address) > MAX_EMAIL or text_problem(address):
        form.errors["email"] = "Diese E-Mail-Adresse ist zu lang oder enthält ungültige Zeichen."
        return
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        form.errors["email"] = "Bitte prüfen Sie die E-Mail-Adresse (zum Beispiel name@example.de)."
