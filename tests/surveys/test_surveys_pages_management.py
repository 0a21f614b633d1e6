"""Survey management on `/umfragen` as Servicebüro staff in a browser would do it (session
cookie, CSRF-checked forms): last year's survey becomes a new draft, is opened, closed
and its results published, each after a confirmation page and with a German notice;
mistakes in the copy form and steps the state forbids are explained in German."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.contracts.surveys import INVITATION_ISSUED, SURVEY_RESULTS_PUBLISHED
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import ADMIN, FORM, Seeder, outbox, signed_in, survey_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_copy_open_close_and_publish_through_the_pages(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:  # fmt: skip
    for _ in range(3):
        await seeder.alliance()
    body = survey_body(year=2025, title="Bündnisumfrage 2025")
    last_year = (await client.post("/surveys", json=body, headers=ADMIN)).json()
    await client.post(f"/surveys/{last_year['id']}/open", headers=ADMIN)
    await client.post(f"/surveys/{last_year['id']}/close", headers=ADMIN)
    staff = signed_in(surveys_settings, Role.ADMIN, email="amt@example.org")
    csrf = f"csrf_token={staff.csrf}"
    posting = {**staff.headers, **FORM}

    listing = await client.get("/umfragen", headers=staff.headers)
    assert listing.status_code == 200
    assert "Neue Umfrage aus einer bisherigen anlegen" in listing.text
    assert f'<option value="{last_year["id"]}" selected>' in listing.text
    assert 'name="jahr" value="2026"' in listing.text  # the year after the newest
    assert f'href="/umfragen/{last_year["id"]}/ergebnisse"' in listing.text

    wrong = await client.post(
        "/umfragen/neu", content=f"quelle={last_year['id']}&jahr=20&ende=gestern&{csrf}",
        headers=posting,
    )  # fmt: skip
    assert wrong.status_code == 422
    assert 'id="fehler-jahr">Bitte geben Sie ein Jahr zwischen 2000 und 2100 an' in wrong.text
    assert 'aria-describedby="hinweis-ende fehler-ende" aria-invalid="true"' in wrong.text
    assert 'name="jahr" value="20"' in wrong.text  # what was typed stays
    assert len((await client.get("/surveys", headers=ADMIN)).json()["items"]) == 1

    copied = await client.post(
        "/umfragen/neu", content=f"quelle={last_year['id']}&jahr=2026&ende=2026-04-30&{csrf}",
        headers=posting,
    )  # fmt: skip
    assert copied.status_code == 303
    notice = await client.get(copied.headers["location"], headers=staff.headers)
    draft_id = copied.headers["location"].rsplit("umfrage=", 1)[1]
    assert "Der Entwurf „Bündnisumfrage 2026“ ist angelegt." in notice.text
    draft = (await client.get(f"/surveys/{draft_id}", headers=ADMIN)).json()
    assert (draft["state"], draft["copied_from"]) == ("draft", last_year["id"])
    assert draft["closes_at"].startswith("2026-04-30T23:59")
    assert draft["questions"] == last_year["questions"]

    steps = [
        ("oeffnen", "Umfrage jetzt öffnen?", "ist geöffnet: 3 Bündnisse sind eingeladen."),
        ("schliessen", "Umfrage jetzt schließen?", "ist geschlossen: 0 von 3 Bündnissen"),
        ("veroeffentlichen", "Ergebnisse jetzt veröffentlichen?", "sind veröffentlicht."),
    ]
    for slug, question, done in steps:
        assert f'href="/umfragen/{draft_id}/{slug}"' in notice.text
        confirm = await client.get(f"/umfragen/{draft_id}/{slug}", headers=staff.headers)
        assert confirm.status_code == 200
        assert question in confirm.text
        assert f'name="csrf_token" value="{staff.csrf}"' in confirm.text
        taken = await client.post(f"/umfragen/{draft_id}/{slug}", content=csrf, headers=posting)
        assert taken.status_code == 303, taken.text
        notice = await client.get(taken.headers["location"], headers=staff.headers)
        assert done in text_of(notice.text)
    issued = [m for m in await outbox(surveys_app, INVITATION_ISSUED)
              if m.data["survey_id"] == draft_id]  # fmt: skip
    assert len(issued) == 3
    assert len(await outbox(surveys_app, SURVEY_RESULTS_PUBLISHED)) == 1
    assert (await client.get(f"/ergebnisse/{draft_id}")).status_code == 200  # now public

    late = await client.post(f"/umfragen/{draft_id}/oeffnen", content=csrf, headers=posting)
    assert late.status_code == 409
    assert "Die Umfrage ist abgeschlossen; nur ein Entwurf kann geöffnet werden." in late.text
    again = await client.get(f"/umfragen/{draft_id}/veroeffentlichen", headers=staff.headers)
    assert again.status_code == 409
    assert "bereits veröffentlicht" in again.text
    missing = await client.get("/umfragen/unbekannt/schliessen", headers=staff.headers)
    assert missing.status_code == 404
