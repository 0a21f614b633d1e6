"""The alliance replica through the real broker: created/updated/snapshot/deleted with
versions, duplicates and tombstones; an alliance becoming active while a survey is open
is invited, and the invitation leaves on the internal topic only."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import col

from lobu.shared import Envelope
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
)
from lobu.shared.envelope import to_kafka_record
from lobu.shared.topics import (
    DIRECTORY_ALLIANCE,
    SURVEYS_INVITATION,
    SURVEYS_RESPONSE,
    SURVEYS_SURVEY,
)
from lobu.surveys.consumers import CONSUMER_GROUP
from lobu.surveys.main import create_app
from lobu.surveys.models import AllianceReplica, Invitation
from tests.support.kafka_probe import publish_raw, read_topic, skip_backlog
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually
from tests.surveys.conftest import (
    ADMIN,
    START,
    FakeClock,
    alliance_snapshot,
    make_settings,
    survey_body,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_app(tmp_path: object, kafka: KafkaServer) -> AsyncIterator[FastAPI]:
    """The surveys app on SQLite with the real broker (consumer and relay running).

    It starts at the topic's end: the records earlier tests left are not its business.
    """
    await skip_backlog(kafka.bootstrap_servers, CONSUMER_GROUP, [DIRECTORY_ALLIANCE])
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path}/surveys.db",
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        outbox_poll_seconds=0.2,
    )
    app = create_app(settings, clock=FakeClock())
    async with app.router.lifespan_context(app):
        yield app


async def _publish(kafka: KafkaServer, event_type: str, data: dict[str, object]) -> None:
    record = to_kafka_record(
        Envelope(type=event_type, source="/lobu/directory", subject=str(data["id"]), data=data)
    )
    await publish_raw(
        kafka.bootstrap_servers, DIRECTORY_ALLIANCE, value=record.value, key=record.key,
        headers=record.headers,
    )  # fmt: skip


async def test_the_replica_follows_the_directory_and_invites_a_newly_active_alliance(
    kafka_app: FastAPI, kafka: KafkaServer
) -> None:
    sessions = kafka_app.state.runtime.sessions
    transport = httpx.ASGITransport(app=kafka_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://surveys") as client:
        survey = (await client.post("/surveys", json=survey_body(), headers=ADMIN)).json()
        await client.post(f"/surveys/{survey['id']}/open", headers=ADMIN)
    alliance_id = str(uuid.uuid4())
    dormant = alliance_snapshot(alliance_id, version=1, status="dormant")
    active = {**alliance_snapshot(alliance_id, version=2), "changed_fields": ["status"]}

    await _publish(kafka, ALLIANCE_CREATED, dormant)
    await _publish(kafka, ALLIANCE_UPDATED, active)
    await _publish(kafka, ALLIANCE_UPDATED, active)  # the same fact again (another event id)
    await _publish(kafka, ALLIANCE_SNAPSHOT, dormant)  # stale: version 1 after version 2

    async def replica() -> AllianceReplica | None:
        async with sessions() as session:
            row = await session.get(AllianceReplica, alliance_id)
            return row if row is not None and row.version == 2 else None

    assert (await eventually(replica, timeout=120, what="version 2 in the replica")).status == (
        "active"
    )

    async def invitation_on_the_broker() -> list[dict[str, object]]:
        records = await read_topic(kafka.bootstrap_servers, SURVEYS_INVITATION)
        values = [json.loads(r.value or b"{}") for r in records]
        return [v for v in values if v.get("alliance_id") == alliance_id]

    (invited,) = await eventually(invitation_on_the_broker, timeout=60, what="the invitation")
    assert str(invited["link"]).startswith("http://127.0.0.1:8002/umfrage/")
    assert invited["title"] == "Bündnisumfrage 2026"

    # Deleted, then an older snapshot arrives late: the tombstone keeps it deleted.
    await _publish(
        kafka, ALLIANCE_DELETED,
        {"id": alliance_id, "version": 3, "deleted_at": START.isoformat()},
    )  # fmt: skip
    await _publish(kafka, ALLIANCE_SNAPSHOT, alliance_snapshot(alliance_id, version=2))

    async def tombstone() -> bool:
        async with sessions() as session:
            row = await session.get(AllianceReplica, alliance_id)
            return row is not None and row.deleted and row.version == 3

    await eventually(tombstone, timeout=60, what="the tombstone")
    async with sessions() as session:
        invitations = await session.scalar(
            select(func.count()).select_from(Invitation).where(
                col(Invitation.alliance_id) == alliance_id
            )
        )  # fmt: skip
    assert invitations == 1

    public = [
        *await read_topic(kafka.bootstrap_servers, SURVEYS_SURVEY),
        *await read_topic(kafka.bootstrap_servers, SURVEYS_RESPONSE),
    ]
    assert public, "the opening should be on the public topic"
    assert all(b"/umfrage/" not in (r.value or b"") for r in public)
