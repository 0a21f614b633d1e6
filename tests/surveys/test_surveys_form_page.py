"""The answer page over HTTP: German form, drafts, messages next to fields, confirmation,
410 once closed, 404 for a wrong link, and no referrer for the token-bearing address."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.contracts.surveys import INVITATION_ISSUED
from tests.surveys.conftest import ADMIN, Seeder, link_token, outbox, survey_body

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def _token(client: httpx.AsyncClient, app: FastAPI, seeder: Seeder) -> tuple[str, str]:
    await seeder.alliance()
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    (message,) = await outbox(app, INVITATION_ISSUED)
    return survey["id"], link_token(message)


async def test_the_form_saves_drafts_shows_errors_by_field_and_confirms(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    survey_id, token = await _token(client, surveys_app, seeder)
    page = await client.get(f"/umfrage/{token}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="de">' in page.text
    assert "Bündnisumfrage 2026" in page.text
    assert 'name="themen" value="kinderarmut"' in page.text
    assert "Nur zu beantworten, wenn Sie bei" in page.text

    draft = await client.post(
        f"/umfrage/{token}", content="themen=kinderarmut&partner=7&aktion=speichern",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert draft.status_code == 200
    assert "zwischengespeichert" in draft.text
    again = await client.get(f"/umfrage/{token}")
    assert 'value="kinderarmut" checked' in again.text
    assert 'value="7"' in again.text

    wrong = await client.post(
        f"/umfrage/{token}", content="themen=kinderarmut&partner=sieben&aktion=absenden",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert wrong.status_code == 422
    assert 'id="fehler-partner">Bitte geben Sie eine Zahl ein' in wrong.text
    assert 'id="fehler-social-media">Bitte beantworten Sie diese Frage.' in wrong.text
    assert 'value="sieben"' in wrong.text  # what was typed stays

    done = await client.post(
        f"/umfrage/{token}",
        content="themen=kinderarmut&themen=migration&social-media=ja&partner=7&aktion=absenden",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert "Vielen Dank!" in done.text
    survey = (await client.get(f"/surveys/{survey_id}", headers=ADMIN)).json()
    assert survey["respondents"] == 1

    await client.post(f"/surveys/{survey_id}/close", headers=ADMIN)
    closed = await client.get(f"/umfrage/{token}")
    assert closed.status_code == 410
    assert "Diese Umfrage ist beendet" in closed.text
    assert (await client.get("/umfrage/" + "A" * 43)).status_code == 404
