"""Day-before reminders with an injected clock: to confirmed participants and, to the
coordinators, the list of who is coming; at most once each, also with two runs at once
(two engines on one database: what two service processes are), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.events.domain import BERLIN
from lobu.events.service.reminders import Reminders
from lobu.shared.contracts.events import REGISTRATION_REMINDED, REGISTRATIONS_LISTED
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.outbox import OutboxMessage
from tests.events.conftest import create_edition, published_action

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def berlin(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2027, 5, day, hour, tzinfo=BERLIN).astimezone(dt.UTC)


async def register(client: httpx.AsyncClient, action_id: str, name: str, seats: int) -> str:
    body = {"name": name, "email": f"{name.lower()}@example.org", "seats": seats}
    response = await client.post(f"/actions/{action_id}/registrations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["cancel_url"]).split("/registrations/")[1]


async def events_of(app: FastAPI, event_type: str) -> list[OutboxMessage]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(col(OutboxMessage.event_type) == event_type)
        )
        return list(rows)


def reminders_at(app: FastAPI, moment: dt.datetime) -> Reminders:
    return Reminders(app.state.runtime.sessions, source="/lobu/events", hour=8,
                     clock=lambda: moment)  # fmt: skip


async def test_participants_and_coordinators_are_reminded_the_day_before_once(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=3, registration_required=True)
    other_day = await published_action(client, capacity=3, registration_required=True,
                                       starts_at="2027-05-16T11:00:00+02:00",
                                       ends_at="2027-05-16T12:00:00+02:00")  # fmt: skip
    await published_action(client)  # no registration: nothing to remind
    await register(client, action_id, "Anna", 2)
    ben = await register(client, action_id, "Ben", 1)
    await register(client, action_id, "Cara", 3)  # waits: the list counts her seats
    await register(client, other_day, "Dora", 1)

    too_early = await reminders_at(events_app, berlin(14, 7)).send_due()
    assert (too_early.participants, too_early.rosters) == (0, 0)
    run = await reminders_at(events_app, berlin(14, 9)).send_due()
    assert (run.participants, run.rosters) == (2, 1)
    reminded = await events_of(events_app, REGISTRATION_REMINDED)
    assert sorted(m.data["name"] for m in reminded) == ["Anna", "Ben"]
    (listed,) = await events_of(events_app, REGISTRATIONS_LISTED)
    data: dict[str, Any] = listed.data
    assert [(p["name"], p["seats"]) for p in data["participants"]] == [("Anna", 2), ("Ben", 1)]
    assert (data["seats_confirmed"], data["seats_waiting"], data["capacity"]) == (3, 3, 3)

    again = await reminders_at(events_app, berlin(14, 10)).send_due()
    assert (again.participants, again.rosters) == (0, 0)
    # Ben cancels, Eve takes his seat the evening before: only Eve is reminded, no new list.
    assert (await client.delete(f"/registrations/{ben}")).status_code == 200
    await register(client, action_id, "Eve", 1)
    late = await reminders_at(events_app, berlin(14, 20)).send_due()
    assert (late.participants, late.rosters) == (1, 0)
    assert (await reminders_at(events_app, berlin(15, 12)).send_due()).participants == 1  # Dora
    after = await reminders_at(events_app, berlin(16, 12)).send_due()  # both have begun
    assert (after.participants, after.rosters) == (0, 0)


async def test_two_runs_at_once_remind_each_participant_once(
    client: httpx.AsyncClient, events_app: FastAPI, database_url: str
) -> None:
    await create_edition(client)
    expected = Counter[str]()
    for number in range(4):
        action_id = await published_action(client, capacity=50, registration_required=True)
        for person in range(8):
            await register(client, action_id, f"P{number}x{person}", 1)
            expected["participants"] += 1
    engines = [create_engine(database_url) for _ in range(2)]
    try:
        moment = berlin(14, 9)
        runs = [
            Reminders(create_session_factory(engine), source="/lobu/events", hour=8,
                      clock=lambda: moment)
            for engine in engines
        ]  # fmt: skip
        results = await asyncio.gather(*(run.send_due() for run in runs))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(r.participants for r in results) == expected["participants"]
    assert sum(r.rosters for r in results) == 4
    subjects = Counter(m.subject for m in await events_of(events_app, REGISTRATION_REMINDED))
    assert len(subjects) == expected["participants"]
    assert set(subjects.values()) == {1}
    rosters = Counter(m.subject for m in await events_of(events_app, REGISTRATIONS_LISTED))
    assert sorted(rosters.values()) == [1, 1, 1, 1]
