"""Participants' data is deleted a configured number of days after the action ended, by
the shared retention job with an injected clock (SQLite and PostgreSQL); other actions'
registrations stay, and the statistics keep the seats.
"""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.events.models import Registration
from lobu.events.service.reminders import Reminders
from lobu.events.service.retention import declare_participant_retention
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.retention import RetentionJob
from tests.events.conftest import ADMIN, YEAR, create_edition, published_action

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PERIOD = dt.timedelta(days=10)
ENDS = dt.datetime(2027, 5, 15, 14, 0, tzinfo=dt.UTC)  # 16:00 in Berlin


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def registered_names(app: FastAPI) -> set[str]:
    async with app.state.runtime.sessions() as session:
        return set(await session.scalars(select(col(Registration.name))))


async def test_registrations_go_the_configured_days_after_their_action(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    past = await published_action(client, capacity=5, registration_required=True)
    later = await published_action(client, capacity=5, registration_required=True,
                                   starts_at="2027-06-20T10:00:00+02:00",
                                   ends_at="2027-06-20T12:00:00+02:00")  # fmt: skip
    for action_id, name, seats in ((past, "Anna", 3), (past, "Ben", 2), (past, "Cara", 1),
                                   (later, "Dora", 1)):  # fmt: skip
        body = {"name": name, "email": f"{name.lower()}@example.org", "seats": seats}
        assert (
            await client.post(f"/actions/{action_id}/registrations", json=body)
        ).status_code == 201
    runtime = events_app.state.runtime
    reminded = await Reminders(runtime.sessions, source=runtime.source, hour=8,
                               clock=lambda: ENDS - dt.timedelta(days=1)).send_due()  # fmt: skip
    assert reminded.participants == 2  # Anna and Ben; Cara waits
    clock = Clock(ENDS + PERIOD - dt.timedelta(seconds=1))
    metrics = ServiceMetrics(service="events")  # a registry of its own beside the app's
    job = RetentionJob(runtime.sessions, metrics=metrics, clock=clock, pause_seconds=0)
    declare_participant_retention(job, period=PERIOD)

    assert await job.run_once() == {"registrations": 0, "action_reminders_sent": 0}
    assert await registered_names(events_app) == {"Anna", "Ben", "Cara", "Dora"}
    clock.now = ENDS + PERIOD + dt.timedelta(seconds=1)
    assert await job.run_once() == {"registrations": 3, "action_reminders_sent": 3}
    assert await registered_names(events_app) == {"Dora"}

    figures = (await client.get(f"/editions/{YEAR}/statistics", headers=ADMIN)).json()
    assert figures["total"]["seats_confirmed"] == 6  # 5 of the past action, Dora's 1


def test_the_period_is_a_setting_in_days(events_settings: object) -> None:
    settings = events_settings("sqlite+aiosqlite://", participant_retention="P14D")  # type: ignore[operator]
    assert settings.participant_retention == dt.timedelta(days=14)
    assert events_settings("sqlite+aiosqlite://").participant_retention == dt.timedelta(days=30)  # type: ignore[operator]
