"""The "Mein Bündnis" form: read a posted entry into an AllianceUpdate, with German errors.

Field names are the API's (`name`, `postal_code`, ...); contacts and partners come as
numbered rows (`contact-0-email`, `partner-1-type`) with a few empty rows for new ones,
and a `contact-N-remove` box. Errors are keyed by the form field they belong to, so the
page shows each next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from starlette.datastructures import FormData

from lobu.directory.csv_cells import unreadable_characters
from lobu.directory.csv_messages import german_message
from lobu.directory.schemas import AlliancePrivate, AllianceUpdate

TEXT_FIELDS = (
    "name", "street", "postal_code", "city", "district", "municipality", "website",
    "coordinating_organisation",
)  # fmt: skip
REQUIRED = frozenset({"name", "postal_code", "city", "state"})
CHOICE_FIELDS = ("state", "staffing")
CONTACT_PARTS = ("name", "role", "email", "phone")
PARTNER_PARTS = ("name", "type")
MAX_ROWS = 40
EMPTY_ROWS = 2


@dataclass
class EntryForm:
    """What the page shows: the values (as posted or stored) and the errors by field."""

    values: dict[str, str]
    topics: list[str]
    contacts: list[dict[str, str]]
    partners: list[dict[str, str]]
    version: int
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, alliance: AlliancePrivate) -> EntryForm:
        """The form filled with the stored entry, plus empty rows to add to."""
        stored = alliance.model_dump(mode="json")
        values = {name: str(stored.get(name) or "") for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
        contacts = [
            {part: str(contact.get(part) or "") for part in CONTACT_PARTS}
            for contact in stored["contacts"]
        ]
        partners = [
            {part: str(partner.get(part) or "") for part in PARTNER_PARTS}
            for partner in stored["partners"]
        ]
        return cls(
            values=values, topics=list(stored["topics"]), contacts=_padded(contacts, CONTACT_PARTS),
            partners=_padded(partners, PARTNER_PARTS), version=alliance.version,
        )  # fmt: skip


def read_entry_form(form: FormData) -> tuple[EntryForm, AllianceUpdate | None]:
    """The posted form and, when it is valid, the change it asks for."""
    values = {name: _text(form, name) for name in (*TEXT_FIELDS, *CHOICE_FIELDS)}
    topics = [value for value in form.getlist("topics") if isinstance(value, str)][:20]
    contacts = _rows(form, "contact", CONTACT_PARTS)
    partners = _rows(form, "partner", PARTNER_PARTS)
    version_text = _text(form, "version")
    entry = EntryForm(
        values=values, topics=topics, contacts=contacts, partners=partners,
        version=int(version_text) if version_text.isdigit() and len(version_text) < 10 else 0,
    )  # fmt: skip
    for name, value in values.items():
        if name in REQUIRED and not value:
            entry.errors[name] = "Pflichtangabe fehlt"
        elif problem := unreadable_characters(value):
            entry.errors[name] = problem
    for prefix, rows in (("contact", contacts), ("partner", partners)):
        for index, row in enumerate(rows):
            for part, value in row.items():
                if problem := unreadable_characters(value):
                    entry.errors[f"{prefix}-{index}-{part}"] = problem
    if entry.version == 0:
        entry.errors["form"] = "Das Formular ist unvollständig. Bitte laden Sie die Seite neu."
    kept_contacts = [row for row in contacts if any(row.values()) and not row.get("remove")]
    for index, row in enumerate(contacts):
        if any(row.values()) and not row.get("remove") and not (row["name"] and row["email"]):
            entry.errors[f"contact-{index}-{'name' if not row['name'] else 'email'}"] = (
                "Pflichtangabe fehlt"
            )
    if entry.errors:
        return _with_empty_rows(entry), None
    payload: dict[str, Any] = {name: value or None for name, value in values.items()}
    payload["topics"] = topics
    payload["contacts"] = [
        {part: row[part] or None for part in CONTACT_PARTS} for row in kept_contacts
    ]
    payload["partners"] = [
        {part: row[part] for part in PARTNER_PARTS} for row in partners if any(row.values())
    ]
    try:
        return entry, AllianceUpdate.model_validate(payload)
    except ValidationError as error:
        for detail in error.errors():
            entry.errors.setdefault(
                _field_of(detail["loc"], contacts, kept_contacts),
                german_message(detail, str(detail["loc"][0])),
            )
        return _with_empty_rows(entry), None


def _message(detail: ErrorDetails) -> str:
    if detail["type"] == "literal_error":  # a choice the form does not offer
        return "ist keine der angebotenen Möglichkeiten: bitte wählen Sie aus der Liste"
    return german_message(detail, str(detail["loc"][0]))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:1000] if isinstance(value, str) else ""


def _rows(form: FormData, prefix: str, parts: tuple[str, ...]) -> list[dict[str, str]]:
    rows = []
    for index in range(MAX_ROWS):
        row = {part: _text(form, f"{prefix}-{index}-{part}") for part in parts}
        if prefix == "contact" and _text(form, f"{prefix}-{index}-remove"):
            row["remove"] = "1"
        if f"{prefix}-{index}-{parts[0]}" not in form:
            break
        rows.append(row)
    return rows


def _field_of(
    location: tuple[int | str, ...], contacts: list[dict[str, str]], kept: list[dict[str, str]]
) -> str:
    """The form field a validation error is about (rows counted as the form shows them)."""
    name = str(location[0])
    if name in ("contacts", "partners") and len(location) >= 2 and isinstance(location[1], int):
        prefix = name[:-1]
        index = location[1]
        if name == "contacts" and index < len(kept):
            index = contacts.index(kept[index])
        part = str(location[2]) if len(location) > 2 else "name"
        return f"{prefix}-{index}-{part}"
    return name


def _padded(rows: list[dict[str, str]], parts: tuple[str, ...]) -> list[dict[str, str]]:
    return rows + [dict.fromkeys(parts, "") for _ in range(EMPTY_ROWS)]


def _with_empty_rows(entry: EntryForm) -> EntryForm:
    entry.contacts = _padded([r for r in entry.contacts if any(r.values())], CONTACT_PARTS)
    entry.partners = _padded([r for r in entry.partners if any(r.values())], PARTNER_PARTS)
    return entry
