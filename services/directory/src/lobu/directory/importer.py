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

from lobu.directory.csv_format import (
    COLUMNS,
    FIELD_COLUMNS,
    REQUIRED_COLUMNS,
    read_row,
    unreadable_characters,
)
from lobu.directory.errors import DirectoryError, ImportRejectedError, InvalidImportFileError
from lobu.directory.models import Alliance
from lobu.directory.schemas import AllianceCreate, ImportReport, ImportRowError
from lobu.directory.service import AllianceDirectory
from lobu.directory.slugs import slug_of
from lobu.shared import Caller

MAX_ROWS = 5000


@dataclass
class _ParsedFile:
    rows: list[tuple[int, AllianceCreate, set[str]]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)


class _RollbackRequestedError(Exception):
    """Raised at the end of a dry run to roll its transaction back."""


class AllianceImporter:
    """Imports alliance CSV files through the directory's use cases."""

    def __init__(self, directory: AllianceDirectory) -> None:
        self._directory = directory

    async def run(self, content: bytes, *, dry_run: bool, actor: Caller) -> ImportReport:
        """Import `content`; raise ImportRejectedError (nothing changed) when rows are invalid."""
        parsed = _parse(content)
        report = ImportReport(dry_run=dry_run, created=0, updated=0, unchanged=0, errors=[])
        report.errors.extend(parsed.errors)
        try:
            async with self._directory.sessions() as session, session.begin():
                for line, request, columns in parsed.rows:
                    try:
                        await self._apply(session, request, columns, actor=actor, report=report)
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
                f"{len(report.errors)} problem(s) in the file; nothing was imported. "
                "Fix them (a dry run lists them all) and upload the file again.",
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
        report: ImportReport,
    ) -> None:
        slug = request.slug or slug_of(request.name)
        existing = await session.scalar(select(Alliance).where(col(Alliance.slug) == slug))
        if existing is None:
            await self._directory.create_in(
                session, request.model_copy(update={"slug": slug}), actor=actor
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
        raise InvalidImportFileError(f"The header row cannot be read as CSV: {error}") from error
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if unknown or missing or not header:
        raise InvalidImportFileError(
            "The header row does not fit the alliance CSV format"
            + (f"; unknown columns: {', '.join(unknown)}" if unknown else "")
            + (f"; missing columns: {', '.join(missing)}" if missing else "")
            + ". See docs/alliance-csv.md.",
            unknown_columns=unknown,
            missing_columns=missing,
        )
    reader.fieldnames = header
    try:
        return _read_rows(reader, header)
    except csv.Error as error:
        raise InvalidImportFileError(
            f"Line {reader.line_num} cannot be read as CSV: {error}"
        ) from error


def _read_rows(reader: csv.DictReader[str], header: list[str]) -> _ParsedFile:
    parsed = _ParsedFile()
    slugs: dict[str, int] = {}
    for number, cells in enumerate(reader, start=1):
        line = reader.line_num
        if number > MAX_ROWS:
            raise InvalidImportFileError(f"The file has more than {MAX_ROWS} rows; split it.")
        if None in cells:  # more cells than columns
            parsed.errors.append(ImportRowError(line=line, field=None, message="too many cells"))
            continue
        record, problems = read_row({name: value or "" for name, value in cells.items()})
        for problem_column, message in problems:
            parsed.errors.append(ImportRowError(line=line, field=problem_column, message=message))
        if problems:
            continue
        try:
            request = AllianceCreate.model_validate(record)
        except ValidationError as error:
            for item in error.errors():
                location = item["loc"][0] if item["loc"] else None
                column = FIELD_COLUMNS.get(str(location)) if location else None
                parsed.errors.append(ImportRowError(line=line, field=column, message=item["msg"]))
            continue
        slug = request.slug or slug_of(request.name)
        if slug in slugs:
            parsed.errors.append(
                ImportRowError(
                    line=line, field="slug",
                    message=f"the same alliance ({slug}) is already in line {slugs[slug]}",
                )
            )  # fmt: skip
            continue
        slugs[slug] = line
        parsed.rows.append((line, request, set(header)))
    return parsed
