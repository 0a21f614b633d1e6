"""Import errors in German, in the file's vocabulary, every mistake of every row; repairs."""

from __future__ import annotations

import httpx
import pytest

from lobu.directory.csv_format import read_row
from tests.directory.test_directory_import_export import upload

ON_THE_APP_LOOP = pytest.mark.asyncio(loop_scope="session")

HEADER = (
    "name;land;plz;ort;breitengrad;laengengrad;gegruendet;status;website;handlungsfelder;kontakte"
)
MISTAKES = [
    # line 2: five mistakes (Paris lies at a German latitude)
    "Bündnis Paris;Elsass;;Paris;48,8566;2,3522;;kaputt;ftp://example.org;;",
    # line 3: three mistakes, two of them in one list cell
    "Bündnis Celle;NI;2922;Celle;;;31.02.2005;ruhend;;Kinderbetreuung|Golf|Tennis;"
    "Eva <keine-adresse> [+49 5141 1]",
    # line 4: fine apart from a lone latitude
    "Bündnis Uelzen;Niedersachsen;29525;Uelzen;52,96;;;aufgelöst;;;",
]


@pytest.mark.integration
@ON_THE_APP_LOOP
async def test_every_mistake_of_every_row_is_reported_in_german(client: httpx.AsyncClient) -> None:
    content = ("\ufeff" + "\r\n".join([HEADER, *MISTAKES]) + "\r\n").encode()

    response = await upload(client, content, dry_run=True)

    assert response.status_code == 200, response.text
    errors = {
        (error["line"], error["field"]): error["message"] for error in response.json()["errors"]
    }
    assert set(errors) == {
        (2, "land"), (2, "plz"), (2, "laengengrad"), (2, "status"),
        (2, "website"), (3, "gegruendet"), (3, "handlungsfelder"), (3, "kontakte"),
        (4, "breitengrad"),
    }  # fmt: skip
    assert errors[(2, "plz")] == "Pflichtangabe fehlt"
    assert "Niedersachsen" in errors[(2, "land")]
    assert errors[(2, "status")].endswith("erlaubt: aktiv, ruhend, aufgelöst")
    assert errors[(2, "laengengrad")].startswith("Längengrad 2,3522 liegt nicht in Deutschland")
    assert "http://" in errors[(2, "website")]
    assert "„Golf“" in errors[(3, "handlungsfelder")]
    assert "„Tennis“" in errors[(3, "handlungsfelder")]
    assert "kein Datum" in errors[(3, "gegruendet")]
    assert "Längengrad gehören zusammen" in errors[(4, "breitengrad")]
    # The four-digit postcode of line 3 is read as meant, and the dry run says so.
    assert response.json()["repairs"] == [
        {"line": 3, "field": "plz", "message": "PLZ „2922“ als „02922“ gelesen: eine "
         "Tabellenkalkulation hat die führende Null entfernt (eine PLZ hat fünf Ziffern)"},
    ]  # fmt: skip


@pytest.mark.unit
@pytest.mark.parametrize(
    ("cells", "field", "value"),
    [
        ({"plz": "2943"}, "postal_code", "02943"),
        ({"breitengrad": "519059", "laengengrad": "10428"}, "latitude", 51.9059),
        ({"breitengrad": "519059", "laengengrad": "10428"}, "longitude", 10.428),
        ({"laengengrad": "59123"}, "longitude", 5.9123),
        ({"gegruendet": "01.03.05"}, "founded_on", "2005-03-01"),
        ({"gegruendet": "15.6.98"}, "founded_on", "1998-06-15"),
    ],
)
def test_what_a_spreadsheet_did_is_repaired_where_only_one_reading_is_possible(
    cells: dict[str, str], field: str, value: object
) -> None:
    reading = read_row(cells)
    assert reading.problems == []
    assert reading.record[field] == value
    assert reading.repairs  # and it says so


@pytest.mark.unit
@pytest.mark.parametrize(
    "cells",
    [{"plz": "294"}, {"plz": "123456"}, {"breitengrad": "4"}, {"laengengrad": "2,35"}],
)
def test_what_has_no_single_reading_is_not_repaired(cells: dict[str, str]) -> None:
    reading = read_row(cells)
    assert reading.repairs == []
