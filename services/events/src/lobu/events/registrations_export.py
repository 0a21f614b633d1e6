"""An action's registrations for its coordinators: every page of the list, and CSV for Excel.

The rows come from `Registrations.list` (the API's `GET /actions/{id}/registrations`,
which checks that the caller may see them); the CSV is the shared one for German Excel
(`lobu.shared.spreadsheet_csv`: `;`, BOM, no formulas), since names are typed by the
public and could start like a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from fastapi.responses import Response

from lobu.events.domain import BERLIN
from lobu.events.schemas import ActionPrivate, RegistrationPrivate
from lobu.events.service import Registrations
from lobu.shared import Caller, as_utc
from lobu.shared.spreadsheet_csv import excel_csv_lines

STATUS_LABELS = {"confirmed": "bestätigt", "waitlisted": "Warteliste", "cancelled": "abgemeldet"}
HEADER = ["Nr.", "Name", "E-Mail", "Plätze", "Status", "Nachgerückt", "Angemeldet am",
          "Abgemeldet am"]  # fmt: skip
PAGE = 1000


async def all_registrations(
    registrations: Registrations, action_id: str, *, actor: Caller
) -> list[RegistrationPrivate]:
    """Every registration of the action in order of arrival."""
    rows: list[RegistrationPrivate] = []
    cursor: str | None = None
    while True:
        page = await registrations.list(action_id, actor=actor, cursor=cursor, limit=PAGE)
        rows.extend(page.items)
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _moment(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return as_utc(value).astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")


def csv_rows(rows: list[RegistrationPrivate]) -> Iterator[list[str]]:
    """The header, then one line per registration."""
    yield HEADER
    for number, row in enumerate(rows, start=1):
        yield [
            str(number), row.name, row.email, str(row.seats), STATUS_LABELS[row.status],
            "ja" if row.promoted else "nein", _moment(row.created_at), _moment(row.cancelled_at),
        ]  # fmt: skip


def registrations_csv(action: ActionPrivate, rows: list[RegistrationPrivate]) -> Response:
    """The download: personal data, so never cached."""
    slug = re.sub(r"[^a-z0-9]+", "-", action.title.lower()).strip("-")[:40] or "aktion"
    return Response(
        "".join(excel_csv_lines(csv_rows(rows))),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="anmeldungen-{slug}.csv"',
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )
