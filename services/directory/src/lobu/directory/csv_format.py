"""The alliance CSV format (docs/alliance-csv.md): German columns, `;`, `|` inside cells."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from lobu.directory.schemas import AlliancePrivate
from lobu.shared.contracts.vocabulary import (
    AWARDS,
    PARTNER_TYPES,
    SOCIAL_PLATFORMS,
    STAFFING,
    STATES,
    STATUSES,
    TOPICS,
)

# Column -> API field, in the order of the file.
COLUMNS: dict[str, str] = {
    "slug": "slug",
    "name": "name",
    "land": "state",
    "landkreis": "district",
    "gemeinde": "municipality",
    "plz": "postal_code",
    "ort": "city",
    "strasse": "street",
    "breitengrad": "latitude",
    "laengengrad": "longitude",
    "gegruendet": "founded_on",
    "status": "status",
    "personal": "staffing",
    "website": "website",
    "social_media": "social_media",
    "handlungsfelder": "topics",
    "partner": "partners",
    "auszeichnungen": "awards",
    "koordination": "coordinating_organisation",
    "kontakte": "contacts",
}
FIELD_COLUMNS = {field: column for column, field in COLUMNS.items()}
REQUIRED_COLUMNS = ("name", "land", "plz", "ort")
PUBLIC_COLUMNS = [column for column in COLUMNS if column != "kontakte"]
SEPARATOR = "|"

_PARTNER = re.compile(r"^(?P<name>.+?)\s*\[(?P<type>[^\]]+)\]$")
_CONTACT = re.compile(
    r"^(?P<name>[^<]+?)\s*<(?P<email>[^>]+)>(?:\s*\((?P<role>[^)]*)\))?(?:\s*\[(?P<phone>[^\]]*)\])?$"
)


# What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_MARK = "'"

_ASCII_NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?", re.ASCII)
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
_GERMAN_DATE = re.compile(r"[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{4}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class CellError(ValueError):
    """A cell that cannot be read; the message says what was expected."""


def protect_cell(cell: str) -> str:
    """The cell as exported: a leading apostrophe before what could start a formula.

    OWASP's advice against CSV injection: spreadsheets then show the text instead of
    running it. A cell that already begins with an apostrophe gets one too, so that
    `read_cell` can always take away exactly the one the export added.
    """
    return _TEXT_MARK + cell if cell.startswith((*FORMULA_TRIGGERS, _TEXT_MARK)) else cell


def read_cell(cell: str) -> str:
    """The cell as imported: `protect_cell` undone (one apostrophe, only where it adds one)."""
    if cell.startswith(_TEXT_MARK) and cell[1:].startswith((*FORMULA_TRIGGERS, _TEXT_MARK)):
        return cell[1:]
    return cell


def unreadable_characters(cell: str) -> str | None:
    """Why a cell cannot be stored (bytes that were not UTF-8, NUL, control characters)."""
    for char in cell:
        if "\ud800" <= char <= "\udfff":  # from undecodable bytes (surrogateescape)
            return "enthält Bytes, die kein UTF-8 sind; speichern Sie die Datei als „CSV UTF-8“"
        if char == "\x00":
            return "enthält ein Nullzeichen (NUL)"
        if char not in "\t\r\n" and unicodedata.category(char) == "Cc":
            return f"enthält ein Steuerzeichen (U+{ord(char):04X})"
    return None


def _lookup(value: str, table: dict[str, str], what: str) -> str:
    """A vocabulary code given as code or label (case-insensitive)."""
    wanted = value.strip().casefold()
    for code, label in table.items():
        if wanted in (code.casefold(), label.casefold()):
            return code
    if table is STATUSES and wanted == "aufgeloest":
        return "dissolved"
    raise CellError(f"unknown {what} {value.strip()!r}; expected one of {', '.join(table)}")


def _items(cell: str) -> list[str]:
    return [item.strip() for item in cell.split(SEPARATOR) if item.strip()]


def _number(cell: str) -> float:
    # float() also takes "nan", "inf", "1_0" and digits of other scripts ("５１"): only ASCII.
    if not _ASCII_NUMBER.fullmatch(cell):
        raise CellError(f"„{cell}“ ist keine Zahl")
    return float(cell.replace(",", "."))


def _date(cell: str) -> str:
    try:
        if _GERMAN_DATE.fullmatch(cell):
            day, month, year = (int(part) for part in cell.split("."))
            return date(year, month, day).isoformat()
        if _ISO_DATE.fullmatch(cell):
            return date.fromisoformat(cell).isoformat()
    except ValueError:
        pass
    raise CellError(f"„{cell}“ ist kein Datum (TT.MM.JJJJ oder JJJJ-MM-TT)")


def _social(cell: str) -> list[dict[str, str]]:
    channels = []
    for item in _items(cell):
        platform, separator, url = item.partition("=")
        if not separator:
            raise CellError(f"{item!r} is not 'plattform=URL'")
        channels.append(
            {"platform": _lookup(platform, SOCIAL_PLATFORMS, "platform"), "url": url.strip()}
        )
    return channels


def _partners(cell: str) -> list[dict[str, str]]:
    partners = []
    for item in _items(cell):
        match = _PARTNER.match(item)
        if not match:
            raise CellError(f"{item!r} is not 'Name [Typ]'")
        partner_type = _lookup(match["type"], PARTNER_TYPES, "partner type")
        partners.append({"name": match["name"], "type": partner_type})
    return partners


def _awards(cell: str) -> list[dict[str, Any]]:
    awards = []
    for item in _items(cell):
        code, separator, year = item.rpartition(":")
        # isdigit() is true for "²", which int() refuses, and for "٢٠١٩", which it takes.
        if not separator or not _YEAR.fullmatch(year.strip()):
            raise CellError(f"„{item}“ ist nicht „Auszeichnung:Jahr“ (Jahr mit vier Ziffern)")
        awards.append({"award": _lookup(code, AWARDS, "award"), "year": int(year)})
    return awards


def _contacts(cell: str) -> list[dict[str, str | None]]:
    contacts = []
    for item in _items(cell):
        match = _CONTACT.match(item)
        if not match:
            raise CellError(f"{item!r} is not 'Name <E-Mail> (Rolle) [Telefon]'")
        contacts.append(
            {
                "name": match["name"],
                "email": match["email"].strip(),
                "role": (match["role"] or "").strip() or None,
                "phone": (match["phone"] or "").strip() or None,
            }
        )
    return contacts


_READERS = {
    "land": lambda cell: _lookup(cell, STATES, "Land"),
    "breitengrad": _number,
    "laengengrad": _number,
    "gegruendet": _date,
    "status": lambda cell: _lookup(cell, STATUSES, "status"),
    "personal": lambda cell: _lookup(cell, STAFFING, "staffing"),
    "social_media": _social,
    "handlungsfelder": lambda cell: [
        _lookup(item, TOPICS, "field of action") for item in _items(cell)
    ],
    "partner": _partners,
    "auszeichnungen": _awards,
    "kontakte": _contacts,
}
_LIST_COLUMNS = {"social_media", "handlungsfelder", "partner", "auszeichnungen", "kontakte"}


def read_row(cells: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The API fields of one row, and (column, message) for each cell that cannot be read.

    An empty cell means "no value": None, or an empty list for list columns.
    """
    record: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for column, raw in cells.items():
        cell = read_cell(raw or "").strip()
        field = COLUMNS[column]
        unreadable = unreadable_characters(cell)
        if unreadable:
            problems.append((column, unreadable))
            continue
        if not cell:
            record[field] = [] if column in _LIST_COLUMNS else None
            continue
        reader = _READERS.get(column)
        try:
            record[field] = reader(cell) if reader else cell
        except CellError as error:
            problems.append((column, str(error)))
    if record.get("status") is None and "status" in record:
        record["status"] = "active"
    return record, problems


def _join(items: list[str]) -> str:
    return f" {SEPARATOR} ".join(items)


def _decimal(value: float | None) -> str:
    return "" if value is None else f"{value:.6f}".rstrip("0").rstrip(".")


def format_row(view: AlliancePrivate, *, with_contacts: bool) -> list[str]:
    """One CSV row of an alliance, in column order (contacts only when asked for)."""
    row = [
        view.slug, view.name, view.state, view.district or "", view.municipality or "",
        view.postal_code, view.city, view.street or "", _decimal(view.latitude),
        _decimal(view.longitude), view.founded_on.isoformat() if view.founded_on else "",
        STATUSES[view.status], STAFFING[view.staffing] if view.staffing else "",
        view.website or "",
        _join([f"{channel.platform}={channel.url}" for channel in view.social_media]),
        _join(list(view.topics)),
        _join([f"{partner.name} [{partner.type}]" for partner in view.partners]),
        _join([f"{award.award}:{award.year}" for award in view.awards]),
        view.coordinating_organisation or "",
    ]  # fmt: skip
    if with_contacts:
        row.append(
            _join(
                [
                    f"{contact.name} <{contact.email}>"
                    + (f" ({contact.role})" if contact.role else "")
                    + (f" [{contact.phone}]" if contact.phone else "")
                    for contact in view.contacts
                ]
            )
        )
    return row
