"""The demo edition: loaded once the replica holds the alliances, never twice."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from fastapi import FastAPI

from lobu.events.demo import load_demo_data_when_ready, next_day_of_families
from tests.events.conftest import seed_alliance

pytestmark = pytest.mark.integration


def test_the_next_day_of_families_is_this_years_until_it_has_passed() -> None:
    assert next_day_of_families(dt.date(2027, 5, 15)) == dt.date(2027, 5, 15)
    assert next_day_of_families(dt.date(2027, 5, 16)) == dt.date(2028, 5, 15)
    assert next_day_of_families(dt.date(2027, 1, 2)) == dt.date(2027, 5, 15)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_demo_programme_shows_published_actions_some_with_capacity(
    events_app: FastAPI, client: httpx.AsyncClient
) -> None:
    for number in range(30):
        await seed_alliance(events_app, str(uuid.uuid4()), name=f"Lokales Bündnis {number}")
    state = events_app.state

    loaded = await load_demo_data_when_ready(
        state.runtime.sessions, state.editions, state.actions, wait_seconds=10, poll_seconds=0.1
    )
    again = await load_demo_data_when_ready(
        state.runtime.sessions, state.editions, state.actions, wait_seconds=10, poll_seconds=0.1
    )

    year = next_day_of_families(dt.datetime.now(dt.UTC).date()).year
    page = (await client.get(f"/editions/{year}/actions", params={"limit": 200})).json()
    assert loaded >= 25
    assert again == 0
    assert len(page["items"]) == loaded
    assert any(item["capacity"] for item in page["items"])
    assert any(item["capacity"] is None for item in page["items"])
    feed = await client.get(f"/editions/{year}/programme.ics")
    assert feed.text.count("BEGIN:VEVENT") == loaded
