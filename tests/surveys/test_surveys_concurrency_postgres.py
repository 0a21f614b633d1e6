"""Races on real PostgreSQL, with two real transactions: the opening against an
alliance becoming active, two invitations of the same pair, concurrent submissions."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlmodel import col

from lobu.shared.contracts.surveys import INVITATION_ISSUED
from lobu.surveys.audience import invite
from lobu.surveys.models import Invitation, Response
from lobu.surveys.schemas import SurveyCreate
from lobu.surveys.service import load_survey
from lobu.surveys.settings import SurveySettings
from tests.support.postgres_server import PostgresServer
from tests.surveys.conftest import (
    ADMIN,
    Seeder,
    alliance_event,
    alliance_snapshot,
    link_token,
    make_settings,
    outbox,
    survey_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def surveys_settings(postgres: PostgresServer) -> Iterator[SurveySettings]:
    """These races exist only where transactions run side by side: PostgreSQL."""
    with postgres.database() as url:
        yield make_settings(url)


async def _waiting_for_a_lock(app: FastAPI, task: asyncio.Task[object]) -> None:
    """Until `task` waits for a lock held by another transaction (or has finished)."""
    for _ in range(600):
        if task.done():
            return
        async with app.state.runtime.engine.connect() as connection:
            waiting = await connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the second transaction neither waited nor finished in 60 s")


async def _invitations(app: FastAPI, survey_id: str) -> list[str]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(col(Invitation.alliance_id)).where(col(Invitation.survey_id) == survey_id)
        )
        return list(rows.all())


async def test_an_alliance_activated_while_the_survey_opens_is_invited_once(
    surveys_app: FastAPI, seeder: Seeder
) -> None:
    alliance_id = await seeder.alliance(status="dormant")
    catalogue = surveys_app.state.catalogue
    survey = await catalogue.create(SurveyCreate.model_validate(survey_body()))
    sessions = surveys_app.state.runtime.sessions
    active = alliance_event(alliance_snapshot(alliance_id, version=2, status="active"))

    async with sessions() as consumer_session, consumer_session.begin():
        # The consumer has made the alliance active (not yet committed) ...
        await surveys_app.state.replica_reactions.on_snapshot(consumer_session, active)
        # ... while the Servicebüro opens the survey.
        opening = asyncio.create_task(catalogue.open(survey.id))
        await _waiting_for_a_lock(surveys_app, opening)
    opened = await opening

    assert await _invitations(surveys_app, survey.id) == [alliance_id]
    assert opened.invited == 1


async def test_two_transactions_inviting_the_same_alliance_make_one_invitation(
    surveys_app: FastAPI, seeder: Seeder
) -> None:
    alliance_id = await seeder.alliance(status="dormant")
    catalogue = surveys_app.state.catalogue
    survey = await catalogue.create(SurveyCreate.model_validate(survey_body()))
    await catalogue.open(survey.id)
    sessions = surveys_app.state.runtime.sessions

    async def second_invitation() -> bool:
        async with sessions() as session, session.begin():
            row = await load_survey(session, survey.id)
            return await invite(session, row, alliance_id, base_url="http://x", source="/t")

    async with sessions() as session, session.begin():
        row = await load_survey(session, survey.id)
        assert await invite(session, row, alliance_id, base_url="http://x", source="/t")
        racing = asyncio.create_task(second_invitation())
        await _waiting_for_a_lock(surveys_app, racing)
    assert await racing is False

    assert await _invitations(surveys_app, survey.id) == [alliance_id]
    events = [m for m in await outbox(surveys_app, INVITATION_ISSUED)]
    assert [m.data["alliance_id"] for m in events] == [alliance_id]


async def test_concurrent_submissions_of_one_alliance_make_one_response(
    client: httpx.AsyncClient, surveys_app: FastAPI, seeder: Seeder
) -> None:
    await seeder.alliance()
    survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
    await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    (message,) = await outbox(surveys_app, INVITATION_ISSUED)
    token = link_token(message)
    answers = {"themen": ["migration"], "social-media": "ja"}

    results = await asyncio.gather(
        *(
            client.put(f"/answers/{token}", json={"answers": {**answers, "partner": n},
                                                  "submit": True})
            for n in range(8)
        )
    )  # fmt: skip

    assert [r.status_code for r in results] == [200] * 8
    async with surveys_app.state.runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Response))
        (response,) = (await session.scalars(select(Response))).all()
    assert count == 1
    assert response.submissions == 8
