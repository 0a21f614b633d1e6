"""Every change writes its events to the outbox in the same transaction."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from lobu.shared.outbox import OutboxMessage
from tests.directory.conftest import ADMIN

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

BODY: dict[str, Any] = {
    "name": "Lokales Bündnis für Familie Erfurt",
    "state": "TH",
    "postal_code": "99084",
    "city": "Erfurt",
    "topics": ["beratungsangebote"],
    "contacts": [{"name": "Ute Sommer", "email": "ute.sommer@example.org"}],
}


async def events_of(app: FastAPI, alliance_id: str) -> list[OutboxMessage]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.subject == alliance_id)
            .order_by(OutboxMessage.position)
        )
        return list(rows.all())


async def test_create_update_delete_write_ordered_versioned_events(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    # The rows as written: once published, the contacts rows keep no data.
    await directory_app.state.runtime.relay.stop()
    created = (await client.post("/alliances", json=BODY, headers=ADMIN)).json()
    url = f"/alliances/{created['id']}"
    await client.patch(url, json={"city": "Weimar"}, headers={**ADMIN, "If-Match": '"1"'})
    await client.patch(
        url,
        json={"contacts": [{"name": "Ute Sommer", "email": "ute@example.org"}]},
        headers={**ADMIN, "If-Match": '"2"'},
    )
    await client.delete(url, headers=ADMIN)

    events = await events_of(directory_app, created["id"])

    assert [(event.topic, event.event_type, event.data.get("version")) for event in events] == [
        ("directory.alliance", "lobu.directory.alliance.created.v1", 1),
        ("directory.alliance-contacts", "lobu.directory.alliance-contacts.changed.v1", 1),
        ("directory.alliance", "lobu.directory.alliance.updated.v1", 2),
        ("directory.alliance", "lobu.directory.alliance.updated.v1", 3),
        ("directory.alliance-contacts", "lobu.directory.alliance-contacts.changed.v1", 3),
        ("directory.alliance", "lobu.directory.alliance.deleted.v1", 4),
        ("directory.alliance-contacts", "lobu.directory.alliance-contacts.changed.v1", 4),
    ]
    # The approximate coordinates from the gazetteer follow the change of town.
    assert events[2].data["changed_fields"] == ["city", "latitude", "longitude"]
    assert events[3].data["changed_fields"] == []  # contacts only: nothing public changed
    assert events[6].data == {
        "alliance_id": created["id"],
        "version": 4,
        "contacts": [],
        "deleted": True,
    }
    for event in events:
        assert event.source == "/lobu/directory"
        if event.topic == "directory.alliance":
            assert "@" not in str(event.data)


async def test_a_refused_change_writes_no_event(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    created = (await client.post("/alliances", json=BODY, headers=ADMIN)).json()
    url = f"/alliances/{created['id']}"

    stale = await client.patch(url, json={"city": "Gera"}, headers={**ADMIN, "If-Match": '"7"'})
    invalid = await client.patch(
        url, json={"postal_code": "1"}, headers={**ADMIN, "If-Match": '"1"'}
    )

    assert stale.status_code == 412
    assert invalid.status_code == 422
    assert len(await events_of(directory_app, created["id"])) == 2  # created + contacts


async def test_the_relay_publishes_what_the_outbox_holds(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    created = (await client.post("/alliances", json=BODY, headers=ADMIN)).json()
    relay = directory_app.state.runtime.relay

    for _ in range(100):
        if all(event.published_at for event in await events_of(directory_app, created["id"])):
            break
        relay.wake()
        await asyncio.sleep(0.1)

    assert all(event.published_at for event in await events_of(directory_app, created["id"]))
