"""Real reliable consumers for the tests: a FastStream broker, a byte-exact publisher, tables."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from lobu.shared.consumer import ReliableConsumer, subscribe
from lobu.shared.envelope import KafkaRecord
from lobu.shared.inbox import InboxMessage
from lobu.shared.kafka import create_broker
from lobu.shared.metrics import ServiceMetrics
from tests.shared.shared_fakes import effects_metadata


async def create_consumer_tables(engine: AsyncEngine) -> None:
    """The inbox and the test-effects table, nothing else."""
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: SQLModel.metadata.create_all(sync, tables=[InboxMessage.__table__])  # type: ignore[list-item]
        )
        await connection.run_sync(effects_metadata.create_all)


async def create_topics(bootstrap_servers: str, *names: str, partitions: int = 3) -> None:
    """Create topics before anyone subscribes (a consumer sees a later one only minutes later)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(name, num_partitions=partitions, replication_factor=1) for name in names]
            )
    finally:
        await admin.close()


class RawPublisher:
    """A `PublishRecord` that sends headers, key and value exactly as given (aiokafka)."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def __call__(self, topic: str, record: KafkaRecord) -> None:
        await self._producer.send_and_wait(
            topic, record.value, key=record.key, headers=list(record.headers.items())
        )


@asynccontextmanager
async def raw_publisher(bootstrap_servers: str) -> AsyncIterator[RawPublisher]:
    """A started RawPublisher for the block."""
    publisher = RawPublisher(bootstrap_servers)
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


@asynccontextmanager
async def running_consumer(
    bootstrap_servers: str, consumer: ReliableConsumer, topics: Sequence[str]
) -> AsyncIterator[KafkaBroker]:
    """`consumer` subscribed to `topics` on a broker built as services build theirs."""
    broker = create_broker(
        bootstrap_servers=bootstrap_servers,
        service=f"test-{consumer.name}",
        metrics=ServiceMetrics(service="test"),
    )
    subscribe(broker, consumer, topics)
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()
