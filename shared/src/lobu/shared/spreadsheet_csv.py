"""CSV for German Excel, shared by every export: `;`, CRLF, a BOM, no formulas.

Cells a spreadsheet would take for the start of a formula get a leading apostrophe on
the way out (OWASP "CSV injection"), and an import takes exactly that apostrophe away
again: `read_cell(protect_cell(text)) == text` for every text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

BYTE_ORDER_MARK = "\ufeff"  # German Excel reads UTF-8 only with it
# What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TEXT_MARK = "'"


def protect_cell(cell: str) -> str:
    """The cell as exported: a leading apostrophe before what could start a formula.

    Spreadsheets then show the text instead of running it. A cell that already begins
    with an apostrophe gets one too, so that `read_cell` can always take away exactly
    the one the export added.
    """
    return _TEXT_MARK + cell if cell.startswith((*FORMULA_TRIGGERS, _TEXT_MARK)) else cell


def read_cell(cell: str) -> str:
    """The cell as imported: `protect_cell` undone (one apostrophe, only where it adds one)."""
    if cell.startswith(_TEXT_MARK) and cell[1:].startswith((*FORMULA_TRIGGERS, _TEXT_MARK)):
        return cell[1:]
    return cell


class ExcelCsv:
    """Turns rows into CSV lines for German Excel; the first line starts with the BOM."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=";", lineterminator="\r\n")
        self._first = True

    def line(self, cells: Sequence[str]) -> str:
        """One row as a CSV line, every cell protected."""
        self._writer.writerow([protect_cell(cell) for cell in cells])
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        if self._first:
            self._first = False
            return BYTE_ORDER_MARK + text
        return text


def excel_csv_lines(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The rows as CSV lines for German Excel (BOM first, `;`, CRLF, no formulas)."""
    writer = ExcelCsv()
    for row in rows:
        yield writer.line(row)
