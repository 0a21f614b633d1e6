"""A coordinator answers the survey on `/mein-buendnis/umfrage`, authorised by the session:
the same form as the personal link's (drafts, messages by field, submit, replace until
closing), one response per alliance, CSRF refused without changing anything, a German
page without an open survey, and a NUL in a text answer as a German 422 (on PostgreSQL
too, where it used to reach the database)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.shared.auth import Role
from lobu.shared.contracts.surveys import INVITATION_ANSWERED, INVITATION_ISSUED
from lobu.surveys.models import Response
from lobu.surveys.settings import SurveySettings
from tests.surveys.conftest import (
    ADMIN,
    FORM,
    START,
    Seeder,
    SignedIn,
    link_token,
    outbox,
    signed_in,
    survey_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]
PAGE = "/mein-buendnis/umfrage"
DONE = "themen=kinderarmut&themen=migration&social-media=ja&partner=7"


async def _open_survey(client: httpx.AsyncClient) -> str:
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    opened = await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    assert opened.status_code == 200, opened.text
    return str(survey["id"])


async def _responses(app: FastAPI, survey_id: str) -> list[Response]:
    async with app.state.runtime.sessions() as session:
        statement = select(Response).where(col(Response.survey_id) == survey_id)
        return list((await session.scalars(statement)).all())


async def test_a_coordinator_answers_by_session_and_each_alliance_has_one_response(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:  # fmt: skip
    own, other = await seeder.alliance(), await seeder.alliance()
    survey_id = await _open_survey(client)
    tokens = [link_token(m) for m in await outbox(surveys_app, INVITATION_ISSUED)]
    grete = signed_in(surveys_settings, Role.ALLIANCE, own)

    page = await client.get(PAGE, headers=grete.headers)
    assert page.status_code == 200, page.text
    assert "Bündnisumfrage 2026" in page.text
    assert f'name="csrf_token" value="{grete.csrf}"' in page.text
    assert f'name="_umfrage" value="{survey_id}"' in page.text
    assert "Angemeldet als grete@example.org" in page.text  # the shared session nav
    assert page.headers["cache-control"] == "no-store"
    assert not any(token in page.text for token in tokens)  # the link is neither shown nor needed

    def form(fields: str, who: SignedIn = grete) -> str:
        return f"{fields}&_umfrage={survey_id}&csrf_token={who.csrf}"

    headers = {**grete.headers, **FORM}
    draft = await client.post(
        PAGE, content=form("themen=kinderarmut&aktion=speichern"), headers=headers
    )
    assert draft.status_code == 200
    assert "zwischengespeichert" in draft.text
    wrong = await client.post(PAGE, content=form("partner=sieben&aktion=absenden"), headers=headers)
    assert wrong.status_code == 422
    assert 'id="fehler-partner">Bitte geben Sie eine Zahl ein' in wrong.text
    done = await client.post(PAGE, content=form(f"{DONE}&aktion=absenden"), headers=headers)
    assert done.status_code == 200
    assert "Vielen Dank!" in done.text
    assert f'href="{PAGE}"' in done.text
    again = await client.get(PAGE, headers=grete.headers)
    assert "Ihr Bündnis hat am" in again.text
    assert "bis zum Ende der Umfrage am 01.04.2026" in again.text
    replaced = await client.post(
        PAGE, content=form("themen=migration&social-media=ja&aktion=absenden"), headers=headers
    )
    assert replaced.status_code == 200

    hans = signed_in(surveys_settings, Role.ALLIANCE, other, email="hans@example.org")
    theirs = await client.post(
        PAGE, content=form(f"{DONE}&aktion=absenden", hans), headers={**hans.headers, **FORM}
    )
    assert theirs.status_code == 200
    rows = {row.alliance_id: row for row in await _responses(surveys_app, survey_id)}
    assert set(rows) == {own, other}
    assert rows[own].submissions == 2
    assert rows[own].answers == {"themen": ["migration"], "social-media": "ja"}
    assert rows[other].submissions == 1
    receipts = await outbox(surveys_app, INVITATION_ANSWERED)
    assert {m.data["link"] for m in receipts} == {f"http://127.0.0.1:8002{PAGE}"}
    survey = (await client.get(f"/surveys/{survey_id}", headers=ADMIN)).json()
    assert survey["respondents"] == 2

    # The personal link shows the same response; another alliance's link is refused.
    issued = await outbox(surveys_app, INVITATION_ISSUED)
    by_token = {m.data["alliance_id"]: link_token(m) for m in issued}
    shown = (await client.get(f"/umfrage/{by_token[own]}")).text
    assert shown.count('value="migration" checked') == 1
    refused = await client.get(f"/umfrage/{by_token[other]}", headers=grete.headers)
    assert refused.status_code == 403
    assert "gehört zu einem anderen Bündnis" in refused.text

    await client.post(f"/surveys/{survey_id}/close", headers=ADMIN)
    late = await client.post(PAGE, content=form(f"{DONE}&aktion=absenden"), headers=headers)
    assert late.status_code == 410
    assert "Diese Umfrage ist beendet" in late.text
    assert "Zurzeit läuft keine Umfrage" in (await client.get(PAGE, headers=grete.headers)).text


async def test_a_form_without_its_csrf_value_is_refused_and_saves_nothing(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:  # fmt: skip
    own = await seeder.alliance()
    survey_id = await _open_survey(client)
    grete = signed_in(surveys_settings, Role.ALLIANCE, own)
    headers = {**grete.headers, **FORM}
    for extra in ("", "&csrf_token=", "&csrf_token=falsch"):
        refused = await client.post(
            PAGE, content=f"{DONE}&aktion=absenden&_umfrage={survey_id}{extra}", headers=headers
        )
        assert refused.status_code == 403
        assert "Formular abgelehnt" in refused.text
    assert await _responses(surveys_app, survey_id) == []
    assert await outbox(surveys_app, INVITATION_ANSWERED) == []


async def test_without_an_open_survey_the_page_says_so_and_when_the_next_one_opens(
    client: httpx.AsyncClient, seeder: Seeder, surveys_settings: SurveySettings
) -> None:
    own = await seeder.alliance()
    grete = signed_in(surveys_settings, Role.ALLIANCE, own)
    nothing = await client.get(PAGE, headers=grete.headers)
    assert nothing.status_code == 200
    assert "Zurzeit läuft keine Umfrage für Ihr Bündnis" in nothing.text
    assert "Ein Termin steht noch nicht fest." in nothing.text
    opens = START + timedelta(days=10)
    await client.post("/surveys", json=survey_body(opens_at=opens.isoformat()), headers=ADMIN)
    upcoming = " ".join((await client.get(PAGE, headers=grete.headers)).text.split())
    assert "„Bündnisumfrage 2026“ beginnt voraussichtlich am 12.03.2026" in upcoming


async def test_a_nul_character_in_a_text_answer_is_a_german_422_on_either_form(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder,
    surveys_settings: SurveySettings,
) -> None:  # fmt: skip
    own = await seeder.alliance()
    survey_id = await _open_survey(client)
    (message,) = await outbox(surveys_app, INVITATION_ISSUED)
    grete = signed_in(surveys_settings, Role.ALLIANCE, own)
    fields = "themen=migration&social-media=nein&kanal-warum-nicht=keine%00Zeit"
    for action in ("speichern", "absenden"):
        by_link = await client.post(
            f"/umfrage/{link_token(message)}", content=f"{fields}&aktion={action}", headers=FORM
        )
        by_session = await client.post(
            PAGE, content=f"{fields}&aktion={action}&_umfrage={survey_id}&csrf_token={grete.csrf}",
            headers={**grete.headers, **FORM},
        )  # fmt: skip
        for response in (by_link, by_session):
            assert response.status_code == 422, response.text
            expected = 'id="fehler-kanal-warum-nicht">Ihre Antwort enthält ein Steuerzeichen'
            assert expected in response.text
    assert await _responses(surveys_app, survey_id) == []
