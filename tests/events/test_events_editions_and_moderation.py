"""Editions (one per year, 15 May by default, the entry window) and the moderation of
actions: draft → submitted → published → cancelled, and a rejection with its reason."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.shared.contracts.events import (
    ACTION_CANCELLED,
    ACTION_PUBLISHED,
    ACTION_REJECTED,
    ACTION_SUBMITTED,
)
from lobu.shared.outbox import OutboxMessage
from tests.events.conftest import (
    ADMIN,
    ALLIANCE,
    COORDINATOR,
    YEAR,
    action_body,
    create_edition,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def outbox(app: FastAPI) -> list[OutboxMessage]:
    async with app.state.runtime.sessions() as session:
        return list(
            await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.position)))
        )


async def test_an_edition_falls_on_15_may_and_takes_entries_until_its_day(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/editions", json={"year": YEAR}, headers=ADMIN)

    assert response.status_code == 201, response.text
    edition = response.json()
    assert edition["date"] == "2027-05-15"
    assert edition["entry_open"] is True
    # Until midnight after the day, Berlin time (CEST, UTC+2).
    assert dt.datetime.fromisoformat(edition["entry_closes_at"]) == dt.datetime(
        2027, 5, 15, 22, 0, tzinfo=dt.UTC
    )
    assert (await client.get(f"/editions/{YEAR}")).json() == edition


async def test_a_second_edition_of_a_year_is_a_conflict(client: httpx.AsyncClient) -> None:
    await create_edition(client)

    response = await client.post(
        "/editions", json={"year": YEAR, "date": "2027-05-16"}, headers=ADMIN
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "edition_exists"


async def test_a_date_outside_the_year_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/editions", json={"year": YEAR, "date": "2026-05-15"}, headers=ADMIN
    )

    assert response.status_code == 422


async def test_coordinators_cannot_enter_actions_once_the_window_closed(
    client: httpx.AsyncClient,
) -> None:
    closed = {"year": YEAR, "entry_opens_at": "2026-01-01T00:00:00+01:00",
              "entry_closes_at": "2026-02-01T00:00:00+01:00"}  # fmt: skip
    assert (await client.post("/editions", json=closed, headers=ADMIN)).status_code == 201

    refused = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR
    )
    admitted = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(alliance_id=ALLIANCE), headers=ADMIN
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "entry_closed"
    assert admitted.status_code == 201


async def test_an_action_goes_from_draft_to_published_to_cancelled(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    created = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR
    )
    assert created.status_code == 201, created.text
    action = created.json()
    assert action["state"] == "draft"
    assert action["alliance_name"] == "Lokales Bündnis für Familie Lüneburg"
    assert action["land"] == "NI"
    action_id = action["id"]
    assert (await client.get(f"/actions/{action_id}")).status_code == 404  # not public yet

    submitted = await client.post(f"/actions/{action_id}/submit", headers=COORDINATOR)
    published = await client.post(f"/actions/{action_id}/publish", headers=ADMIN)
    public = await client.get(f"/actions/{action_id}")
    cancelled = await client.post(
        f"/actions/{action_id}/cancel", json={"reason": "Unwetter"}, headers=COORDINATOR
    )

    assert [submitted.json()["state"], published.json()["state"]] == ["submitted", "published"]
    assert public.status_code == 200
    assert public.json()["title"] == "Familienfest auf dem Marktplatz"
    assert cancelled.json()["state"] == "cancelled"
    assert [m.event_type for m in await outbox(events_app)] == [
        ACTION_SUBMITTED, ACTION_PUBLISHED, ACTION_CANCELLED
    ]  # fmt: skip
    assert {m.topic for m in await outbox(events_app)} == {"events.action"}


async def test_a_rejection_carries_its_reason_to_the_coordinator_who_may_resubmit(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = (
        await client.post(f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR)
    ).json()["id"]
    await client.post(f"/actions/{action_id}/submit", headers=COORDINATOR)

    rejected = await client.post(
        f"/actions/{action_id}/reject", json={"reason": "Bitte den Ort genauer angeben."},
        headers=ADMIN,
    )  # fmt: skip
    seen = await client.get(f"/actions/{action_id}/private", headers=COORDINATOR)
    edited = await client.patch(
        f"/actions/{action_id}", json={"street": "Am Markt 1"}, headers=COORDINATOR
    )
    resubmitted = await client.post(f"/actions/{action_id}/submit", headers=COORDINATOR)

    assert rejected.json()["state"] == "rejected"
    assert seen.json()["rejection_reason"] == "Bitte den Ort genauer angeben."
    assert edited.status_code == 200
    assert edited.json()["street"] == "Am Markt 1"
    assert resubmitted.json()["state"] == "submitted"
    rejection = next(m for m in await outbox(events_app) if m.event_type == ACTION_REJECTED)
    assert rejection.data["reason"] == "Bitte den Ort genauer angeben."


@pytest.mark.parametrize(
    ("first", "then"),
    [("publish", "draft"), ("reject", "draft")],
)
async def test_only_submitted_actions_are_moderated(
    client: httpx.AsyncClient, first: str, then: str
) -> None:
    await create_edition(client)
    action_id = (
        await client.post(f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR)
    ).json()["id"]

    response = await client.post(
        f"/actions/{action_id}/{first}", json={"reason": "x"}, headers=ADMIN
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


async def test_a_coordinator_cannot_change_a_published_action(client: httpx.AsyncClient) -> None:
    from tests.events.conftest import published_action

    await create_edition(client)
    action_id = await published_action(client)

    coordinator = await client.patch(
        f"/actions/{action_id}", json={"title": "Neu"}, headers=COORDINATOR
    )
    admin = await client.patch(f"/actions/{action_id}", json={"title": "Neu"}, headers=ADMIN)

    assert coordinator.status_code == 409
    assert admin.status_code == 200
    assert admin.json()["title"] == "Neu"


async def test_an_action_needs_a_place_or_a_link_and_times_in_order(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    url = f"/editions/{YEAR}/actions"

    no_place = await client.post(url, json=action_body(city=None), headers=COORDINATOR)
    backwards = await client.post(
        url, json=action_body(ends_at="2027-05-15T10:00:00+02:00"), headers=COORDINATOR
    )
    online = await client.post(
        url, json=action_body(city=None, online=True, online_url="https://meet.example.org/x"),
        headers=COORDINATOR,
    )  # fmt: skip

    assert no_place.status_code == 422
    assert backwards.status_code == 422
    assert online.status_code == 201
