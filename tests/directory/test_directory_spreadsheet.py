"""The CSV export survives German spreadsheet programs: opened and saved by LibreOffice Calc.

Calc (Debian's `libreoffice-calc`, installed by scripts/ensure-libreoffice.sh) opens
the admin export as a person in Germany would: `;`, UTF-8, German number and date
recognition (language 1031, "detect special numbers" on, like Excel), and saves it as
CSV again in a German locale. Calc drops leading zeros of postcodes (02943 -> 2943) and
would read "10.428" as ten thousand; the import must take the saved file back with no
errors and no change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from lobu.directory.demo import demo_file
from tests.directory.conftest import ADMIN
from tests.directory.test_directory_import_export import upload

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# Separator ;  text delimiter "  UTF-8  from line 1  standard columns  German  not all
# quoted  detect special numbers (dates, as Excel does).
CSV_FILTER = "59,34,76,1,,1031,false,true"
SOFFICE = shutil.which("soffice")


def save_with_calc(source: Path, folder: Path) -> bytes:
    """`source` opened and saved as CSV by LibreOffice Calc in a German locale."""
    assert SOFFICE
    out = folder / "saved"
    environment = {**os.environ, "LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8"}
    subprocess.run(
        [
            SOFFICE, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
            f"--infilter=CSV:{CSV_FILTER}",
            "--convert-to", f"csv:Text - txt - csv (StarCalc):{CSV_FILTER}",
            "--outdir", str(out), str(source),
        ],
        check=True, env=environment, capture_output=True, timeout=300,
    )  # fmt: skip
    return (out / source.name).read_bytes()


def demo_with_contacts() -> bytes:
    """The 400 demo alliances, every fifth with a further contact and a German phone number."""
    lines = demo_file().decode("utf-8-sig").splitlines()
    for number in range(1, len(lines), 5):
        if lines[number]:
            separator = "" if lines[number].endswith(";") else "|"
            lines[number] += (
                f"{separator}Eva Roth <eva.roth.{number}@example.org> (Koordination) "
                f"[+49 5321 70{number}]"
            )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice Calc (soffice) is not installed")
# What Calc does to the file does not depend on the database: one is enough.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_export_saved_by_libreoffice_calc_in_german_imports_with_no_errors_and_no_change(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    first = await upload(client, demo_with_contacts(), dry_run=False)
    assert first.status_code == 200, first.text
    export = await client.get("/alliances/export.csv", headers=ADMIN)
    (tmp_path / "export.csv").write_bytes(export.content)

    saved = save_with_calc(tmp_path / "export.csv", tmp_path)
    dry = await upload(client, saved, dry_run=True)
    real = await upload(client, saved, dry_run=False)

    assert b"+49 5321 70" in saved  # the phone numbers are still there, readable
    assert dry.status_code == 200, dry.text
    assert dry.json()["errors"] == []
    assert any("PLZ" in note["message"] for note in dry.json()["repairs"])  # said so
    assert real.status_code == 200, real.text
    report = real.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 400)
    again = await client.get("/alliances/export.csv", headers=ADMIN)
    assert again.content == export.content
