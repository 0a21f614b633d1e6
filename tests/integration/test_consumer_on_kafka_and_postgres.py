"""The reliable consumer on the real broker and PostgreSQL: a Kafka offset is committed only
after the effect or the dead letter is.

A consumer is stopped while it is inside `handle()` (its broker client stops, its task
is cancelled), a second member of the same group takes over the partition, and the
record is handled exactly once, through the inbox.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lobu.shared.consumer import EventHandler, Outcome, ReceivedRecord, ReliableConsumer
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import (
    create_consumer_tables,
    create_topics,
    raw_publisher,
    running_consumer,
)
from tests.shared.shared_fakes import effect_count, envelope, record_effect
from tests.support.kafka_probe import publish_raw, read_topic
from tests.support.kafka_server import KafkaServer
from tests.support.postgres_server import PostgresServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

EVENT_TYPE = "lobu.test.thing.happened.v1"


@pytest_asyncio.fixture(loop_scope="session")
async def engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    with postgres.database("consumer") as url:
        engine = create_engine(url)
        await create_consumer_tables(engine)
        yield engine
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def topic(kafka: KafkaServer) -> str:
    name = f"test.consumer-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, name, f"{name}.dlq")
    return name


class Recorder:
    """A handler that records its effect and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, session: AsyncSession, event: Envelope) -> None:
        self.calls += 1
        await record_effect(session, event.id)


class BlocksInside:
    """A handler that writes its effect, says so, then never returns."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()

    async def __call__(self, session: AsyncSession, event: Envelope) -> None:
        await record_effect(session, event.id)
        await session.flush()
        self.entered.set()
        await asyncio.Event().wait()


class StopsAfterHandling(ReliableConsumer):
    """A consumer that dies after the effect committed and before the offset is committed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handled = asyncio.Event()

    async def handle(self, record: ReceivedRecord) -> Outcome:
        outcome = await super().handle(record)
        self.handled.set()
        await asyncio.Event().wait()
        return outcome


def consumer(
    group: str,
    engine: AsyncEngine,
    handler: EventHandler,
    *,
    kind: type[ReliableConsumer] = ReliableConsumer,
) -> ReliableConsumer:
    return kind(
        name=group,
        sessions=create_session_factory(engine),
        handlers={EVENT_TYPE: handler},
        publish=_no_dead_letters,
        metrics=ServiceMetrics(service="test"),
        max_attempts=3,
        retry_backoff_seconds=0,
    )


async def _no_dead_letters(topic: str, record: KafkaRecord) -> None:
    raise AssertionError(f"nothing here should be dead-lettered (to {topic})")


async def committed_offsets(kafka: KafkaServer, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


async def publish(kafka: KafkaServer, topic: str, event: Envelope) -> None:
    record = to_kafka_record(event)
    await publish_raw(
        kafka.bootstrap_servers, topic, value=record.value, key=record.key, headers=record.headers
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_a_consumer_stopped_inside_its_handler_leaves_the_record_to_the_next_member(
    kafka: KafkaServer, engine: AsyncEngine, topic: str
) -> None:
    group = f"test-group-{uuid.uuid4().hex[:6]}"
    thing = envelope(EVENT_TYPE)
    blocking = BlocksInside()
    sessions = create_session_factory(engine)
    await publish(kafka, topic, thing)

    async with running_consumer(
        kafka.bootstrap_servers, consumer(group, engine, blocking), [topic]
    ):
        await asyncio.wait_for(blocking.entered.wait(), timeout=60)
    # The broker client stopped and the handler was cancelled inside its transaction.
    assert await effect_count(sessions, thing.id) == 0
    assert await committed_offsets(kafka, group) == 0

    recorder = Recorder()
    async with running_consumer(
        kafka.bootstrap_servers, consumer(group, engine, recorder), [topic]
    ):
        await eventually(
            lambda: effect_count(sessions, thing.id), timeout=60, what="the record handled"
        )
        await eventually(
            lambda: committed_offsets(kafka, group), timeout=60, what="the offset committed"
        )

    assert recorder.calls == 1
    assert await effect_count(sessions, thing.id) == 1
    assert await committed_offsets(kafka, group) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_consumer_stopped_after_its_commit_and_before_its_ack_is_not_applied_twice(
    kafka: KafkaServer, engine: AsyncEngine, topic: str
) -> None:
    group = f"test-group-{uuid.uuid4().hex[:6]}"
    thing = envelope(EVENT_TYPE)
    sessions = create_session_factory(engine)
    first = consumer(group, engine, Recorder(), kind=StopsAfterHandling)
    await publish(kafka, topic, thing)

    async with running_consumer(kafka.bootstrap_servers, first, [topic]):
        await asyncio.wait_for(first.handled.wait(), timeout=60)  # type: ignore[attr-defined]
    assert await effect_count(sessions, thing.id) == 1
    assert await committed_offsets(kafka, group) == 0

    recorder = Recorder()
    second = consumer(group, engine, recorder)
    async with running_consumer(kafka.bootstrap_servers, second, [topic]):
        await eventually(
            lambda: committed_offsets(kafka, group), timeout=60, what="the offset committed"
        )

    assert recorder.calls == 0  # the inbox knew the event
    assert await effect_count(sessions, thing.id) == 1
    assert (
        second._metrics.registry.get_sample_value(
            "lobu_messages_consumed_total",
            {"service": "test", "consumer": group, "topic": topic, "outcome": "duplicate"},
        )
        == 1
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_a_record_whose_header_is_not_text_is_dead_lettered_with_its_bytes(
    kafka: KafkaServer, engine: AsyncEngine, topic: str
) -> None:
    # FastStream's own parser decodes headers as strict UTF-8: such a record used to fail
    # there and be skipped by the next commit, without a dead letter.
    group = f"test-group-{uuid.uuid4().hex[:6]}"
    record = to_kafka_record(envelope(EVENT_TYPE))
    odd = {**record.headers, "x-trace": b"\xff\xfe\x00\x80"}
    after = envelope(EVENT_TYPE)
    sessions = create_session_factory(engine)
    await publish_raw(kafka.bootstrap_servers, topic, value=record.value, key=b"k", headers=odd)
    await publish(kafka, topic, after)

    async with raw_publisher(kafka.bootstrap_servers) as dead_letters:
        member = consumer(group, engine, Recorder())
        member._publish = dead_letters
        async with running_consumer(kafka.bootstrap_servers, member, [topic]):
            await eventually(
                lambda: effect_count(sessions, after.id), timeout=60, what="the next record"
            )
            letters = await eventually(
                lambda: read_topic(kafka.bootstrap_servers, f"{topic}.dlq"),
                timeout=60,
                what="the dead letter",
            )

    [letter] = [seen for seen in letters if seen.headers.get("ce_id") == record.headers["ce_id"]]
    assert letter.headers["x-trace"] == b"\xff\xfe\x00\x80"
    assert letter.headers["lobu-dlq-reason"] == b"malformed"
    assert {
        name: raw for name, raw in letter.headers.items() if not name.startswith("lobu-dlq-")
    } == odd
    assert letter.value == record.value


@pytest.mark.asyncio(loop_scope="session")
async def test_the_topics_of_one_group_are_handled_side_by_side(
    kafka: KafkaServer, engine: AsyncEngine, topic: str
) -> None:
    """A slow record of one topic does not hold up the records of another."""
    other_topic = f"{topic}-other"
    await create_topics(kafka.bootstrap_servers, other_topic, f"{other_topic}.dlq")
    group = f"test-group-{uuid.uuid4().hex[:6]}"
    sessions = create_session_factory(engine)
    slow, quick = envelope(EVENT_TYPE, subject="slow"), envelope(EVENT_TYPE, subject="quick")
    quick_handled = asyncio.Event()

    async def waits_for_the_other_topic(session: AsyncSession, event: Envelope) -> None:
        await record_effect(session, event.id)
        if event.subject == "slow":
            await asyncio.wait_for(quick_handled.wait(), timeout=60)
        else:
            quick_handled.set()

    await publish(kafka, topic, slow)
    await publish(kafka, other_topic, quick)
    both = consumer(group, engine, waits_for_the_other_topic)
    async with running_consumer(kafka.bootstrap_servers, both, [topic, other_topic]):
        await eventually(
            lambda: effect_count(sessions, slow.id), timeout=90, what="the slow record handled"
        )
    assert await effect_count(sessions, quick.id) == 1
