"""Two webhook senders on one PostgreSQL database never send one delivery twice.

The "check, then write" that matters: each claims due rows (`FOR UPDATE SKIP LOCKED`,
then a compare-and-set into `sending`) while the other claims too. The tables come
from the service's Alembic migrations, so migration 0005 runs on PostgreSQL here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from lobu.notifications.schemas import WebhookCreate
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.migrations import upgrade_database
from tests.notifications.webhooks.webhook_receiver import running_receivers
from tests.notifications.webhooks.webhook_support import (
    LOOPBACK,
    Clock,
    alliance_created,
    new_metrics,
    publish,
    sender_for,
    webhook_deliveries,
)
from tests.support.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FACTS = 20
RECEIVERS = 3


async def test_two_senders_on_postgresql_send_each_delivery_once(
    postgres: PostgresServer,
) -> None:
    with postgres.database("webhooks") as url:
        engines = [create_engine(url), create_engine(url)]
        try:
            await upgrade_database(engines[0], "lobu.notifications:migrations")
            first, second = (create_session_factory(engine) for engine in engines)
            async with running_receivers() as receivers:
                subscriptions = WebhookSubscriptions(first, allowed_networks=LOOPBACK)
                hooks = [
                    await subscriptions.create(
                        WebhookCreate(url=receivers.at(f"/r{n}"), event_types=[ALLIANCE_CREATED])
                    )
                    for n in range(RECEIVERS)
                ]
                await publish(first, *(alliance_created(str(uuid.uuid4())) for _ in range(FACTS)))
                clock = Clock()
                senders = [
                    sender_for(sessions, new_metrics(), clock, concurrency=8, per_receiver=4)
                    for sessions in (first, second)
                ]

                tried = [0, 0]
                while True:
                    done = await asyncio.gather(*(sender.send_due() for sender in senders))
                    tried = [a + b for a, b in zip(tried, done, strict=True)]
                    if not any(done):
                        break

                copies = Counter(
                    (each.path, each.headers["webhook-id"]) for each in receivers.received
                )
                assert len(copies) == FACTS * RECEIVERS
                assert set(copies.values()) == {1}
                assert sum(tried) == FACTS * RECEIVERS
                assert all(tried)  # both senders took part
                for hook in hooks:
                    rows = await webhook_deliveries(first, hook.id)
                    assert {row.status for row in rows} == {"sent"}
                    assert {row.attempts for row in rows} == {1}
        finally:
            for engine in engines:
                await engine.dispose()
