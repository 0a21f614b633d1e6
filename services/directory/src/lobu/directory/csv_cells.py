"""Reading the cells of the alliance CSV: strict where input enters, messages in German.

Each reader takes a stripped, non-empty cell and returns the API value, or raises
`CellError` with a German message in the file's own vocabulary ("aktiv", "ruhend").
Readers may repair what a spreadsheet program did to a value when only one reading is
possible (a postcode that lost its leading zero, a coordinate whose decimal point was
taken for a thousands separator, a two-digit year); they say so in `notes`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from lobu.shared.contracts.vocabulary import (
    AWARDS,
    PARTNER_TYPES,
    SOCIAL_PLATFORMS,
    STAFFING,
    STATES,
    STATUSES,
    TOPICS,
)
from lobu.shared.text_search import normalise

SEPARATOR = "|"
Reader = Callable[[str, list[str]], Any]

# Only ASCII digits: float() also takes "nan", "inf", "1_0" and "５１", int() takes "٢٠١٩".
_NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?", re.ASCII)
_YEAR = re.compile(r"[0-9]{4}", re.ASCII)
_GERMAN_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_PARTNER = re.compile(r"^(?P<name>.+?)\s*\[(?P<type>[^\]]+)\]$")
_CONTACT = re.compile(
    r"^(?P<name>[^<]+?)\s*<(?P<email>[^>]+)>(?:\s*\((?P<role>[^)]*)\))?(?:\s*\[(?P<phone>[^\]]*)\])?$"
)
# The range the contract allows (inside Germany), for repairing coordinates.
LATITUDE_RANGE = (47.2, 55.1)
LONGITUDE_RANGE = (5.8, 15.1)
FIRST_FOUNDING_YEAR = 1990


class CellError(ValueError):
    """A cell that cannot be read; the message says, in German, what was expected."""


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


def decimal_de(value: float) -> str:
    """A number as German spreadsheets write it: decimal comma, no grouping."""
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def _vocabulary(table: dict[str, str], what: str) -> Callable[[str], str]:
    codes = {normalise(code): code for code in table} | {
        normalise(label): code for code, label in table.items()
    }
    allowed = ", ".join(table.values())

    def lookup(value: str) -> str:
        code = codes.get(normalise(value))
        if code is None:
            raise CellError(f"{what} „{value.strip()}“ gibt es nicht; erlaubt: {allowed}")
        return code

    return lookup


_state = _vocabulary(STATES, "das Land")
_status = _vocabulary(STATUSES, "den Status")
_staffing = _vocabulary(STAFFING, "die Angabe")
_topic = _vocabulary(TOPICS, "das Handlungsfeld")
_partner_type = _vocabulary(PARTNER_TYPES, "den Partnertyp")
_award = _vocabulary(AWARDS, "die Auszeichnung")
_platform = _vocabulary(SOCIAL_PLATFORMS, "die Plattform")


def items(cell: str) -> list[str]:
    """The values of a list cell."""
    return [item.strip() for item in cell.split(SEPARATOR) if item.strip()]


def _each(cell: str, read: Callable[[str], Any]) -> list[Any]:
    """Read every item of a list cell, reporting every bad item, not only the first."""
    values, mistakes = [], []
    for item in items(cell):
        try:
            values.append(read(item))
        except CellError as error:
            mistakes.append(str(error))
    if mistakes:
        raise CellError("; ".join(mistakes))
    return values


def _postal_code(cell: str, notes: list[str]) -> str:
    if re.fullmatch(r"[0-9]{4}", cell, re.ASCII):
        notes.append(
            f"PLZ „{cell}“ als „0{cell}“ gelesen: eine Tabellenkalkulation hat die führende "
            "Null entfernt (eine PLZ hat fünf Ziffern)"
        )
        return "0" + cell
    return cell


def _coordinate(bounds: tuple[float, float], what: str) -> Reader:
    low, high = bounds

    def read(cell: str, notes: list[str]) -> float:
        if not _NUMBER.fullmatch(cell):
            raise CellError(f"„{cell}“ ist keine Zahl")
        value = float(cell.replace(",", "."))
        if not low <= value <= high and cell.isdigit():
            # "10.428" read as ten thousand: only one place of the point lies in Germany.
            shifted: list[float] = [value / 10**shift for shift in range(1, len(cell))]
            fits = [fit for fit in shifted if low <= fit <= high]
            if len(fits) == 1:
                notes.append(
                    f"{what} „{cell}“ als {decimal_de(fits[0])} gelesen: eine "
                    "Tabellenkalkulation hat den Dezimalpunkt als Tausenderpunkt verstanden"
                )
                return fits[0]
        return value

    return read


def _date(cell: str, notes: list[str]) -> str:
    german = _GERMAN_DATE.fullmatch(cell)
    try:
        if german:
            day, month, year = (int(part) for part in german.groups())
            if len(german.group(3)) == 2:
                # Founding dates lie between 1990 and today: a two-digit year has one reading.
                year += 1900 if year >= FIRST_FOUNDING_YEAR % 100 else 2000
                notes.append(
                    f"Datum „{cell}“ als {day:02d}.{month:02d}.{year} gelesen "
                    "(zweistelliges Jahr aus einer Tabellenkalkulation)"
                )
            return date(year, month, day).isoformat()
        if _ISO_DATE.fullmatch(cell):
            return date.fromisoformat(cell).isoformat()
    except ValueError:
        pass
    raise CellError(f"„{cell}“ ist kein Datum (TT.MM.JJJJ oder JJJJ-MM-TT)")


def _social(item: str) -> dict[str, str]:
    platform, separator, url = item.partition("=")
    if not separator:
        raise CellError(f"„{item}“ hat nicht die Form „Plattform=URL“")
    return {"platform": _platform(platform), "url": url.strip()}


def _partner(item: str) -> dict[str, str]:
    match = _PARTNER.match(item)
    if not match:
        raise CellError(f"„{item}“ hat nicht die Form „Name [Typ]“")
    return {"name": match["name"], "type": _partner_type(match["type"])}


def _award_item(item: str) -> dict[str, Any]:
    code, separator, year = item.rpartition(":")
    if not separator or not _YEAR.fullmatch(year.strip()):
        raise CellError(f"„{item}“ hat nicht die Form „Auszeichnung:Jahr“ (Jahr mit vier Ziffern)")
    return {"award": _award(code), "year": int(year)}


def _contact(item: str) -> dict[str, str | None]:
    match = _CONTACT.match(item)
    if not match:
        raise CellError(f"„{item}“ hat nicht die Form „Name <E-Mail> (Rolle) [Telefon]“")
    return {
        "name": match["name"],
        "email": match["email"].strip(),
        "role": (match["role"] or "").strip() or None,
        "phone": (match["phone"] or "").strip() or None,
    }


READERS: dict[str, Reader] = {
    "land": lambda cell, _notes: _state(cell),
    "plz": _postal_code,
    "breitengrad": _coordinate(LATITUDE_RANGE, "Breitengrad"),
    "laengengrad": _coordinate(LONGITUDE_RANGE, "Längengrad"),
    "gegruendet": _date,
    "status": lambda cell, _notes: _status(cell),
    "personal": lambda cell, _notes: _staffing(cell),
    "social_media": lambda cell, _notes: _each(cell, _social),
    "handlungsfelder": lambda cell, _notes: _each(cell, _topic),
    "partner": lambda cell, _notes: _each(cell, _partner),
    "auszeichnungen": lambda cell, _notes: _each(cell, _award_item),
    "kontakte": lambda cell, _notes: _each(cell, _contact),
}
LIST_COLUMNS = frozenset(
    {"social_media", "handlungsfelder", "partner", "auszeichnungen", "kontakte"}
)
