"""A database that is away is an outage, not a bad message: tested against what the drivers raise.

A real PostgreSQL cluster of its own (stopped, started, held in start-up) and a host
name that does not resolve (what docker-compose gives while the `postgres` container
is down): the record is not dead-lettered and is handled once the database is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from lobu.shared.consumer import Outcome, ReliableConsumer
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import create_consumer_tables
from tests.shared.shared_fakes import (
    FakeKafka,
    effect_count,
    envelope,
    received_envelope,
    record_effect,
)
from tests.support.postgres_server import PostgresServer, local_cluster
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EVENT_TYPE = "lobu.test.thing.happened.v1"
OUTAGE_LOG = "database unreachable"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A cluster of this module's own: stopping it disturbs no other test."""
    with local_cluster() as server:
        yield server


@pytest.fixture
def own_database(own_postgres: PostgresServer) -> Iterator[str]:
    with own_postgres.database("outage") as url:
        yield url


async def handled(session: Any, event: Envelope) -> None:
    await record_effect(session, event.id)


def consumer_on(engine: AsyncEngine, kafka: FakeKafka) -> ReliableConsumer:
    # Two attempts at 50 ms: a failure counted against the message would dead-letter
    # it within a fraction of a second, long before the database is back.
    return ReliableConsumer(
        name="outage-test",
        sessions=create_session_factory(engine),
        handlers={EVENT_TYPE: handled},
        publish=kafka,
        metrics=ServiceMetrics(service="test"),
        max_attempts=2,
        retry_backoff_seconds=0.05,
    )


async def handle_through_outage(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture, bring_back: Any
) -> tuple[Outcome, FakeKafka, Envelope]:
    """Handle one record while the database is away; bring it back after 5 outage retries."""
    kafka = FakeKafka()
    thing = envelope(EVENT_TYPE)
    caplog.set_level(logging.WARNING, logger="lobu.shared.consumer")
    task = asyncio.create_task(consumer_on(engine, kafka).handle(received_envelope(thing)))

    def outage_retries() -> bool:
        if task.done():
            return True  # a verdict before the database is back: the assertions say which
        return sum(OUTAGE_LOG in r.getMessage() for r in caplog.records) >= 5

    await eventually(outage_retries, timeout=60, what="five outage retries")
    assert not task.done(), f"decided while the database was away: {task.result()}"
    assert kafka.sent == []
    await asyncio.to_thread(bring_back)
    outcome = await asyncio.wait_for(task, timeout=90)
    return outcome, kafka, thing


@pytest.mark.asyncio(loop_scope="session")
async def test_a_stopped_postgresql_is_an_outage_and_the_record_is_handled_once_it_is_back(
    own_postgres: PostgresServer, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(own_database)
    await create_consumer_tables(engine)
    await asyncio.to_thread(own_postgres.stop)
    try:
        outcome, kafka, thing = await handle_through_outage(engine, caplog, own_postgres.start)

        assert outcome is Outcome.HANDLED
        assert kafka.sent == []
        assert await effect_count(create_session_factory(engine), thing.id) == 1
    finally:
        await engine.dispose()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_postgresql_that_is_starting_up_is_an_outage(
    own_postgres: PostgresServer, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = create_engine(own_database)
    await create_consumer_tables(engine)
    await engine.dispose()  # no pooled connection: every attempt meets the start-up
    await asyncio.to_thread(own_postgres.stop)
    await asyncio.to_thread(own_postgres.start_refusing_connections)
    promoted = False

    def promote() -> None:
        nonlocal promoted
        own_postgres.promote()
        promoted = True

    try:
        outcome, kafka, thing = await handle_through_outage(engine, caplog, promote)

        assert any("57P03" in r.getMessage() for r in caplog.records)
        assert outcome is Outcome.HANDLED
        assert kafka.sent == []
        assert await effect_count(create_session_factory(engine), thing.id) == 1
    finally:
        await engine.dispose()
        if not promoted:  # leave a server that accepts connections to the next test
            await asyncio.to_thread(promote)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_database_host_that_does_not_resolve_is_an_outage(
    own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The service's own engine, on a name that resolves only once "the container is up".
    url = make_url(own_database)
    engine = create_engine(own_database.replace(f"@{url.host}:", "@lobu-postgres.invalid:"))
    target = {"host": "lobu-postgres.invalid"}

    @event.listens_for(engine.sync_engine, "do_connect")
    def resolve_when_up(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["host"] = target["host"]

    setup = create_engine(own_database)
    await create_consumer_tables(setup)
    await setup.dispose()
    try:

        def container_is_up() -> None:
            target["host"] = url.host or "127.0.0.1"

        outcome, kafka, thing = await handle_through_outage(engine, caplog, container_is_up)

        assert any("gaierror" in r.getMessage() for r in caplog.records)
        assert outcome is Outcome.HANDLED
        assert kafka.sent == []
        assert await effect_count(create_session_factory(engine), thing.id) == 1
    finally:
        await engine.dispose()
