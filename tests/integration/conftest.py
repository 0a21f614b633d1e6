"""Fixtures for tests of lobu.shared against the real parts: PostgreSQL and the Kafka broker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

import lobu.shared.inbox
import lobu.shared.outbox  # noqa: F401  (registers the outbox table)
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from tests.support.kafka_server import KafkaServer
from tests.support.postgres_server import PostgresServer


@pytest_asyncio.fixture(loop_scope="session")
async def pg_sessions(
    postgres: PostgresServer,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh PostgreSQL database holding the shared tables."""
    with postgres.database("relay") as url:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        yield create_session_factory(engine)
        await engine.dispose()


async def connected(kafka: KafkaServer, service: str) -> KafkaConnection:
    """A started KafkaConnection to the test broker, once it is connected."""
    metrics = ServiceMetrics(service=service)
    broker = create_broker(
        bootstrap_servers=kafka.bootstrap_servers, service=service, metrics=metrics
    )
    connection = KafkaConnection(broker, bootstrap_servers=kafka.bootstrap_servers, metrics=metrics)
    connection.start()
    await connection.wait_connected()
    return connection


@pytest_asyncio.fixture(loop_scope="session")
async def kafka_connection(kafka: KafkaServer) -> AsyncIterator[KafkaConnection]:
    """A connected KafkaConnection (producer and broker) to the test broker."""
    connection = await connected(kafka, "relay-test")
    yield connection
    await connection.stop()
