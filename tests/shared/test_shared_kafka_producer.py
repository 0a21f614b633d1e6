"""A producer whose sequence the broker no longer accepts is replaced, and costs no attempts.

Seen in bench/broker_restart.py: after a restart with records in flight the broker
answered OutOfOrderSequenceNumber to every later batch of the same producer, so the
relay counted attempts against healthy rows and parked them; nothing more went out.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.errors import OutOfOrderSequenceNumber
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.database import transaction
from lobu.shared.envelope import KafkaRecord
from lobu.shared.kafka import KafkaConnection, KafkaUnavailableError, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage
from lobu.shared.relay import OutboxRelay

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]


@dataclass
class FakeProducer:
    """An aiokafka producer stand-in; `broken` answers like a broker that lost its state."""

    broken: bool
    sent: list[tuple[str, bytes]] = field(default_factory=list)
    stopped: bool = False

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: bytes, **_: Any) -> asyncio.Future[None]:
        if self.broken:
            raise OutOfOrderSequenceNumber()
        self.sent.append((topic, value))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


async def connection_with(producers: list[FakeProducer]) -> KafkaConnection:
    metrics = ServiceMetrics(service="producer-test")
    remaining = list(producers)
    connection = KafkaConnection(
        create_broker(bootstrap_servers="127.0.0.1:1", service="t", metrics=metrics),
        bootstrap_servers="127.0.0.1:1",
        metrics=metrics,
        producer_factory=lambda **_: remaining.pop(0),  # type: ignore[arg-type,return-value]
    )
    # What _connect_until_up does once Kafka answers, without a broker.
    connection._producer = remaining.pop(0)  # type: ignore[assignment]
    connection._connected.set()
    return connection


async def test_a_producer_the_broker_refuses_is_closed_and_replaced() -> None:
    broken, fresh = FakeProducer(broken=True), FakeProducer(broken=False)
    connection = await connection_with([broken, fresh])
    record = KafkaRecord(headers={}, key=b"a", value=b"{}")

    with pytest.raises(KafkaUnavailableError, match="producer replaced"):
        await connection.publish("t", record)
    await connection.publish("t", record)

    assert broken.stopped
    assert fresh.sent == [("t", b"{}")]


async def test_a_replaced_producer_costs_the_row_no_attempt(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    connection = await connection_with([FakeProducer(broken=True), FakeProducer(broken=False)])
    async with transaction(sessions) as session:
        session.add(
            OutboxMessage(
                event_id="e-1", topic="t", event_type="lobu.test.thing.changed.v1",
                source="/lobu/test", subject="a", data={"version": 1},
                occurred_at=datetime.now(UTC),
            )
        )  # fmt: skip

    async def answers() -> bool:
        return True  # the broker answers metadata: only the producer is stale

    relay = OutboxRelay(
        sessions, connection.publish, metrics=metrics, max_attempts=1, kafka_answers=answers
    )
    with pytest.raises(KafkaUnavailableError):
        await relay.publish_pending()
    async with sessions() as session:
        row = (await session.scalars(select(OutboxMessage))).one()
    assert (row.attempts, row.parked_at) == (0, None)

    assert await relay.publish_pending() == 1
