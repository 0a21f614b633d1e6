"""The alliance CSV format (docs/alliance-csv.md): German columns, `;`, `|` inside cells."""

from __future__ import annotations

from typing import Any

from lobu.directory.csv_cells import (
    LIST_COLUMNS,
    READERS,
    SEPARATOR,
    CellError,
    decimal_de,
    unreadable_characters,
)
from lobu.directory.schemas import AlliancePrivate
from lobu.shared.contracts.vocabulary import STAFFING, STATUSES
from lobu.shared.spreadsheet_csv import read_cell

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


class RowReading:
    """What was read from one row: API fields, problems and repairs, each by column."""

    def __init__(self) -> None:
        self.record: dict[str, Any] = {}
        self.problems: list[tuple[str, str]] = []
        self.repairs: list[tuple[str, str]] = []


def read_row(cells: dict[str, str]) -> RowReading:
    """The API fields of one row, with (column, German message) for every unreadable cell.

    An empty cell means "no value": None, or an empty list for list columns.
    """
    reading = RowReading()
    for column, raw in cells.items():
        cell = read_cell(raw or "").strip()
        field = COLUMNS[column]
        unreadable = unreadable_characters(cell)
        if unreadable:
            reading.problems.append((column, unreadable))
            continue
        if not cell:
            reading.record[field] = [] if column in LIST_COLUMNS else None
            continue
        reader = READERS.get(column)
        notes: list[str] = []
        try:
            reading.record[field] = reader(cell, notes) if reader else cell
        except CellError as error:
            reading.problems.append((column, str(error)))
        reading.repairs.extend((column, note) for note in notes)
    if reading.record.get("status", "active") is None:
        reading.record["status"] = "active"
    return reading


def _join(items: list[str]) -> str:
    return f" {SEPARATOR} ".join(items)


def _decimal(value: float | None) -> str:
    # A decimal comma: German Excel and Calc take "10.428" for ten thousand four hundred.
    return "" if value is None else decimal_de(value)


def _coordinates(view: AlliancePrivate) -> tuple[str, str]:
    # Approximate coordinates are the gazetteer's, not the alliance's: left out, so that
    # a re-import does not turn them into given ones (the import fills them in again).
    if view.coordinates_approximate:
        return "", ""
    return _decimal(view.latitude), _decimal(view.longitude)


def format_row(view: AlliancePrivate, *, with_contacts: bool) -> list[str]:
    """One CSV row of an alliance, in column order (contacts only when asked for)."""
    row = [
        view.slug, view.name, view.state, view.district or "", view.municipality or "",
        view.postal_code, view.city, view.street or "", *_coordinates(view),
        view.founded_on.isoformat() if view.founded_on else "",
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
