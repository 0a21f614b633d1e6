"""The replica of `directory.alliance`: newest version wins, a deletion leaves a
tombstone, and an alliance that is deleted or dissolved has its actions withdrawn and
its participants told; once through the handlers, once through the real broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.events.consumers import CONSUMER_GROUP
from lobu.events.main import create_app
from lobu.events.models import Action, AllianceReplica, Registration
from lobu.events.service import AllianceReplicas
from lobu.shared import Envelope, transaction
from lobu.shared.contracts.directory import (
    ALLIANCE_DELETED,
    ALLIANCE_UPDATED,
    AllianceDeleted,
    AllianceUpdated,
)
from lobu.shared.contracts.events import ACTION_CANCELLED, REGISTRATION_CANCELLED
from lobu.shared.envelope import to_kafka_record
from lobu.shared.outbox import OutboxMessage
from lobu.shared.topics import DIRECTORY_ALLIANCE, EVENTS_REGISTRATION
from tests.events.conftest import (
    ADMIN,
    ALLIANCE,
    COORDINATOR,
    YEAR,
    SettingsFactory,
    action_body,
    alliance_event,
    create_edition,
    published_action,
)
from tests.support.kafka_probe import publish_raw, read_topic, skip_backlog
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def handle(app: FastAPI, envelope: Envelope) -> None:
    runtime = app.state.runtime
    replicas = AllianceReplicas(source=runtime.source)
    handler = replicas.on_deleted if envelope.type == ALLIANCE_DELETED else replicas.on_snapshot
    async with transaction(runtime.sessions) as session:
        await handler(session, envelope)


def updated(alliance_id: str, version: int, **fields: Any) -> Envelope:
    return alliance_event(
        alliance_id, version=version, event_type=ALLIANCE_UPDATED, model=AllianceUpdated,
        **fields,
    )  # fmt: skip


def deleted(alliance_id: str, version: int) -> Envelope:
    data = AllianceDeleted(id=alliance_id, version=version, deleted_at="2026-11-02T10:00:00Z")
    return Envelope(
        type=ALLIANCE_DELETED, source="/lobu/directory", subject=alliance_id,
        data=data.model_dump(mode="json"),
    )  # fmt: skip


async def replica(app: FastAPI, alliance_id: str) -> AllianceReplica | None:
    async with app.state.runtime.sessions() as session:
        return await session.get(AllianceReplica, alliance_id)


async def outbox_types(app: FastAPI) -> list[str]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.position)))
        return [row.event_type for row in rows]


async def test_an_older_version_does_not_overwrite_a_newer_one(events_app: FastAPI) -> None:
    await handle(events_app, updated(ALLIANCE, 3, name="Bündnis Neu"))
    await handle(events_app, updated(ALLIANCE, 2, name="Bündnis Alt"))

    stored = await replica(events_app, ALLIANCE)
    assert stored is not None
    assert (stored.name, stored.version) == ("Bündnis Neu", 3)


async def test_a_renamed_alliance_is_found_by_its_new_name(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    await published_action(client)

    await handle(events_app, updated(ALLIANCE, 2, name="Familienbündnis Bardowick"))
    found = await client.get(f"/editions/{YEAR}/actions", params={"q": "bardowick"})

    assert [item["alliance_name"] for item in found.json()["items"]] == [
        "Familienbündnis Bardowick"
    ]


async def test_a_deleted_alliance_stays_deleted_and_takes_no_new_actions(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=2, registration_required=True)
    receipt = await client.post(
        f"/actions/{action_id}/registrations",
        json={"name": "Anna Schmidt", "email": "anna@example.org", "seats": 2},
    )
    draft = await client.post(f"/editions/{YEAR}/actions", json=action_body(), headers=COORDINATOR)

    await handle(events_app, deleted(ALLIANCE, 2))
    await handle(events_app, updated(ALLIANCE, 1))  # late, older: ignored

    stored = await replica(events_app, ALLIANCE)
    assert stored is not None
    assert stored.deleted
    public = await client.get(f"/actions/{action_id}")
    assert public.json()["state"] == "cancelled"
    assert (await client.get(f"/editions/{YEAR}/actions")).json()["items"] == []
    mine = await client.get(f"/actions/{draft.json()['id']}/private", headers=COORDINATOR)
    assert mine.json()["state"] == "cancelled"
    assert mine.json()["cancellation_reason"] == "alliance_deleted"
    link = str(receipt.json()["cancel_url"]).removeprefix("https://aktionstag.example.org")
    assert (await client.get(link)).json()["status"] == "cancelled"
    types = await outbox_types(events_app)
    assert types.count(ACTION_CANCELLED) == 1  # the draft was never public
    assert types.count(REGISTRATION_CANCELLED) == 1
    refused = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(alliance_id=ALLIANCE), headers=ADMIN
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "alliance_unknown"


async def test_a_dissolved_alliance_has_its_actions_withdrawn(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client)

    await handle(events_app, updated(ALLIANCE, 2, status="dissolved"))

    private = await client.get(f"/actions/{action_id}/private", headers=ADMIN)
    assert private.json()["cancellation_reason"] == "alliance_dissolved"


# --- through the real broker -------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def broker_app(
    database_url: str, events_settings: SettingsFactory, kafka: KafkaServer
) -> AsyncIterator[FastAPI]:
    """The events app consuming `directory.alliance` and relaying to the real broker.

    It starts at the topic's end: the records earlier tests left are not its business.
    """
    await skip_backlog(kafka.bootstrap_servers, CONSUMER_GROUP, [DIRECTORY_ALLIANCE])
    app = create_app(events_settings(database_url, kafka=kafka.bootstrap_servers))
    async with app.router.lifespan_context(app):
        await app.state.runtime.kafka.wait_connected()
        yield app


async def _publish(kafka: KafkaServer, envelope: Envelope) -> None:
    record = to_kafka_record(envelope)
    await publish_raw(kafka.bootstrap_servers, DIRECTORY_ALLIANCE, value=record.value,
                      key=record.key, headers=record.headers)  # fmt: skip


async def test_through_the_broker_a_dissolution_reaches_the_participants(
    broker_app: FastAPI, kafka: KafkaServer
) -> None:
    alliance_id = str(uuid.uuid4())
    await _publish(kafka, alliance_event(alliance_id, name="Lokales Bündnis für Familie Celle"))
    await eventually(lambda: replica(broker_app, alliance_id), timeout=120, what="the replica")
    transport = httpx.ASGITransport(app=broker_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://events") as client:
        await client.post("/editions", json={"year": YEAR}, headers=ADMIN)
        body = action_body(alliance_id=alliance_id, capacity=5, registration_required=True)
        action_id = (
            await client.post(f"/editions/{YEAR}/actions", json=body, headers=ADMIN)
        ).json()["id"]
        await client.post(f"/actions/{action_id}/submit", headers=ADMIN)
        await client.post(f"/actions/{action_id}/publish", headers=ADMIN)
        registration = await client.post(
            f"/actions/{action_id}/registrations",
            json={"name": "Anna Schmidt", "email": "anna@example.org", "seats": 2},
        )
        registration_id = registration.json()["id"]

        dissolution = updated(alliance_id, 2, status="dissolved")
        await _publish(kafka, dissolution)
        await _publish(kafka, dissolution)  # redelivered: handled once (inbox)

        async def withdrawn() -> bool:
            action = (await client.get(f"/actions/{action_id}")).json()
            return action["state"] == "cancelled"

        await eventually(withdrawn, timeout=60, what="the action withdrawn")

    async def told() -> list[dict[str, Any]]:
        records = await read_topic(kafka.bootstrap_servers, EVENTS_REGISTRATION)
        return [
            json.loads(r.value or b"{}")
            for r in records
            if r.headers.get("ce_type") == REGISTRATION_CANCELLED.encode()
            and json.loads(r.value or b"{}").get("registration_id") == registration_id
        ]

    cancellations = await eventually(told, timeout=60, what="the participant told")
    assert cancellations[0]["reason"] == "alliance_withdrawn"
    assert cancellations[0]["email"] == "anna@example.org"
    assert (await outbox_types(broker_app)).count(ACTION_CANCELLED) == 1
    async with broker_app.state.runtime.sessions() as session:
        stored = await session.get(Registration, registration_id)
        action = await session.get(Action, action_id)
    assert stored is not None
    assert stored.status == "cancelled"
    assert action is not None
    assert action.seats_taken == 0
