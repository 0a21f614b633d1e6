"""Bulk import of the Servicebüro's alliance CSV (docs/alliance-csv.md).

Collect, then commit: every row is read and validated first; then, in one
transaction, each alliance is created, updated or left alone (matched by slug), with
its events and audit entries. A dry run takes exactly the same path and rolls back at
the end, so its report is what the real run would do. A real run with any invalid row
changes nothing. Importing the same file twice changes nothing and publishes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import col

from lobu.directory.csv_cells import unreadable_characters
from lobu.directory.csv_format import COLUMNS, FIELD_COLUMNS, REQUIRED_COLUMNS, read_row
from lobu.directory.csv_messages import german_message
from lobu.directory.errors import DirectoryError, ImportRejectedError, InvalidImportFileError
from lobu.directory.models import Alliance
from lobu.directory.schemas import AllianceCreate, ImportReport, ImportRowError, ImportRowRepair
from lobu.directory.service import AllianceDirectory
from lobu.directory.slugs import slug_of
from lobu.shared import Caller
from lobu.shared.contracts.directory import AllianceEntry

MAX_ROWS = 5000


@dataclass
class _ParsedFile:
    rows: list[tuple[int, AllianceCreate, set[str]]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)
    repairs: list[ImportRowRepair] = field(default_factory=list)


class _RollbackRequestedError(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


class AllianceImporter:
    """Imports alliance CSV files through the directory's use cases."""

    def __init__(self, directory: AllianceDirectory) -> None:
        self._directory = directory

    async def run(
        self,
        content: bytes,
        *,
        dry_run: bool,
        actor: Caller,
        entry: AllianceEntry = "new",
    ) -> ImportReport:
        """Import `content`; raise ImportRejectedError (nothing changed) when rows are invalid.

        `entry` says how the rows' new alliances enter (see AllianceEntry): `existing` for
        members moved in from an earlier record, who are not welcomed.
        """
        parsed = _parse(content)
        report = ImportReport(dry_run=dry_run, created=0, updated=0, unchanged=0, errors=[])
        report.errors.extend(parsed.errors)
        report.repairs.extend(parsed.repairs)
        try:
            async with self._directory.sessions() as session, session.begin():
                for line, request, columns in parsed.rows:
                    try:
                        await self._apply(
                            session, request, columns, actor=actor, entry=entry, report=report
                        )
                    except DirectoryError as error:  # e.g. a slug taken by another alliance
                        report.errors.append(
                            ImportRowError(line=line, field=None, message=error.detail)
                        )
                if dry_run or report.errors:
                    raise _RollbackRequestedError
        except _RollbackRequestedError:
            pass
        if report.errors and not dry_run:
            raise ImportRejectedError(
                f"{len(report.errors)} Fehler in der Datei; nichts wurde importiert. Bitte "
                "korrigieren (ein Probelauf listet alle) und die Datei erneut hochladen.",
                **report.model_dump(exclude={"dry_run"}),
            )
        return report

    async def _apply(
        self,
        session: Any,
        request: AllianceCreate,
        columns: set[str],
        *,
        actor: Caller,
        entry: AllianceEntry,
        report: ImportReport,
    ) -> None:
        slug = request.slug or slug_of(request.name)
        existing = await session.scalar(select(Alliance).where(col(Alliance.slug) == slug))
        if existing is None:
            await self._directory.create_in(
                session, request.model_copy(update={"slug": slug}), actor=actor, entry=entry
            )
            report.created += 1
            return
        # Only the columns the file has are compared: a file without `kontakte` leaves
        # contacts alone.
        fields = {COLUMNS[column] for column in columns} - {"slug"}
        requested = request.model_dump(mode="json", include=fields)
        version = existing.version
        after = await self._directory.update_in(session, existing, requested, actor=actor)
        if after.version == version:
            report.unchanged += 1
        else:
            report.updated += 1


def _parse(content: bytes) -> _ParsedFile:
    # Undecodable bytes become lone surrogates here; the rows that hold them are reported
    # by line (csv_format.unreadable_characters) instead of failing the whole file.
    text = content.decode("utf-8-sig", errors="surrogateescape")
    first_line = text.splitlines()[0] if text else ""
    if unreadable_characters(first_line):
        raise InvalidImportFileError(
            "Die Kopfzeile ist kein UTF-8 (oder enthält Steuerzeichen); speichern Sie die "
            "Datei als „CSV UTF-8“. The header row is not UTF-8; save the file as 'CSV UTF-8'."
        )
    # newline="" lets the csv module handle \r\n, \n and old Mac \r line ends itself.
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=";" if ";" in first_line else ","
    )
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as error:
        raise InvalidImportFileError(f"Die Kopfzeile ist kein lesbares CSV: {error}") from error
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if unknown or missing or not header:
        raise InvalidImportFileError(
            "Die Kopfzeile passt nicht zum Bündnis-CSV"
            + (f"; unbekannte Spalten: {', '.join(unknown)}" if unknown else "")
            + (f"; es fehlen die Spalten: {', '.join(missing)}" if missing else "")
            + " (siehe docs/alliance-csv.md).",
            unknown_columns=unknown,
            missing_columns=missing,
        )
    reader.fieldnames = header
    try:
        return _read_rows(reader, header)
    except csv.Error as error:
        raise InvalidImportFileError(
            f"Zeile {reader.line_num} ist kein lesbares CSV: {error}"
        ) from error


def _read_rows(reader: csv.DictReader[str], header: list[str]) -> _ParsedFile:
    parsed = _ParsedFile()
    slugs: dict[str, int] = {}
    for number, cells in enumerate(reader, start=1):
        line = reader.line_num
        if number > MAX_ROWS:
            raise InvalidImportFileError(
                f"Die Datei hat mehr als {MAX_ROWS} Zeilen; bitte teilen Sie sie auf."
            )
        if None in cells:  # more cells than columns
            parsed.errors.append(
                ImportRowError(line=line, field=None, message="mehr Zellen als Spalten")
            )
            continue
        request = _check_row(line, {name: value or "" for name, value in cells.items()}, parsed)
        if request is None:
            continue
        slug = request.slug or slug_of(request.name)
        if slug in slugs:
            parsed.errors.append(
                ImportRowError(
                    line=line, field="slug",
                    message=f"dasselbe Bündnis ({slug}) steht schon in Zeile {slugs[slug]}",
                )
            )  # fmt: skip
            continue
        slugs[slug] = line
        parsed.rows.append((line, request, set(header)))
    return parsed


def _check_row(line: int, cells: dict[str, str], parsed: _ParsedFile) -> AllianceCreate | None:
    """The row as a request, or None after recording every one of its mistakes."""
    reading = read_row(cells)
    parsed.repairs.extend(
        ImportRowRepair(line=line, field=column, message=message)
        for column, message in reading.repairs
    )
    for problem_column, message in reading.problems:
        parsed.errors.append(ImportRowError(line=line, field=problem_column, message=message))
    # Validate what could be read, so that every mistake of the row is reported at once.
    unreadable = {COLUMNS[column] for column, _message in reading.problems}
    try:
        request = AllianceCreate.model_validate(
            {name: value for name, value in reading.record.items() if name not in unreadable}
        )
    except ValidationError as error:
        for item in error.errors():
            location = str(item["loc"][0]) if item["loc"] else None
            if location in unreadable:
                continue  # already reported as unreadable
            column: str | None = FIELD_COLUMNS.get(location) if location else None
            if location is None and "latitude" in reading.record:
                column = "breitengrad"  # the pair check: name the column people see
            parsed.errors.append(
                ImportRowError(line=line, field=column, message=german_message(item, location))
            )
        return None
    return None if reading.problems else request
