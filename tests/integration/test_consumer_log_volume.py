"""A consumer catching up on a backlog at start-up: one line per record, one per bad record.

On the real broker, since FastStream's per-record "Received"/"Processed" lines come
from its consume path (its test broker does not log them): 30 records and one whose
data breaks the contract, consumed by a fresh group at INFO as `configure_logging`
sets the levels. Then the same at DEBUG, where FastStream speaks again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lobu.shared.consumer import ReliableConsumer
from lobu.shared.contracts import read_event_data
from lobu.shared.contracts.directory import AllianceDeleted
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope, to_kafka_record
from lobu.shared.logs import set_log_levels
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import (
    create_consumer_tables,
    create_topics,
    raw_publisher,
    running_consumer,
)
from tests.shared.shared_fakes import FakeKafka, envelope
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

EVENT_TYPE = "lobu.test.thing.happened.v1"
BAD_TYPE = "lobu.test.thing.broken.v1"


@pytest_asyncio.fixture(loop_scope="session")
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = create_engine(f"sqlite+aiosqlite:///{tmp_path}/consumer.db")
    await create_consumer_tables(database)
    yield database
    await database.dispose()


async def nothing(_session: AsyncSession, _event: Envelope) -> None:
    return None


async def reads_a_contract(_session: AsyncSession, event: Envelope) -> None:
    read_event_data(AllianceDeleted, event.data)


async def catch_up(kafka: KafkaServer, engine: AsyncEngine, *, records: int) -> FakeKafka:
    """Publish a backlog (and one bad record), then let a fresh group consume all of it."""
    topic = f"test.log-volume-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, topic, partitions=1)
    async with raw_publisher(kafka.bootstrap_servers) as publish:
        for _ in range(records):
            await publish(topic, to_kafka_record(envelope(EVENT_TYPE)))
        bad = envelope(BAD_TYPE, data={"name": "x" * 50, "extra": [1, 2, 3]})
        await publish(topic, to_kafka_record(bad))
    letters = FakeKafka()
    metrics = ServiceMetrics(service="test")
    consumer = ReliableConsumer(
        name=f"log-volume-{uuid.uuid4().hex[:8]}", sessions=create_session_factory(engine),
        handlers={EVENT_TYPE: nothing, BAD_TYPE: reads_a_contract},
        publish=letters, metrics=metrics, retry_backoff_seconds=0,
    )  # fmt: skip
    async with running_consumer(kafka.bootstrap_servers, consumer, [topic]):
        await eventually(lambda: len(letters.sent) == 1 or None, timeout=60, what="the bad record")
    return letters


async def test_a_backlog_at_start_is_one_line_per_record_and_one_per_bad_record(
    kafka: KafkaServer, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    set_log_levels("INFO")
    caplog.set_level(logging.INFO)

    await catch_up(kafka, engine, records=30)

    lines = [record for record in caplog.records if record.name != "httpx"]
    texts = [record.getMessage() for record in lines]
    assert not [text for text in texts if text in ("Received", "Processed")]
    assert len([text for text in texts if text.startswith("handled")]) == 30
    problems = [record for record in lines if record.levelno >= logging.WARNING]
    assert [record.getMessage().split(" (")[0] for record in problems] == [
        problems[0].getMessage().split(" (")[0]
    ]
    assert problems[0].getMessage().startswith("dead-lettering")
    assert problems[0].exc_info is None
    assert "\n" not in problems[0].getMessage()
    assert len(lines) < 40  # 30 handled, one dead letter, a few lines of start and stop


async def test_at_debug_faststream_tells_each_record(
    kafka: KafkaServer, engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    set_log_levels("DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        await catch_up(kafka, engine, records=2)
    finally:
        set_log_levels("INFO")

    assert [r.getMessage() for r in caplog.records].count("Received") >= 3
