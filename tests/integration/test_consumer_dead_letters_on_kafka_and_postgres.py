"""Retries, then a dead letter, on the real broker and PostgreSQL together; and a dead
letter while the broker is down.

The dead letters go out as a service sends them: through `KafkaConnection.publish`
(what `ServiceRuntime.add_consumer` hands the consumer), to `<topic>.dlq` on the broker.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from lobu.shared.consumer import ReliableConsumer, subscribe
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record
from lobu.shared.inbox import InboxMessage
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.offset_commits import OffsetCommits
from lobu.shared.relay import PublishRecord
from tests.integration.conftest import connected
from tests.integration.consumer_harness import (
    create_consumer_tables,
    create_topics,
    running_consumer,
)
from tests.shared.shared_fakes import effect_count, envelope, record_effect
from tests.support.kafka_probe import SeenRecord, publish_raw, read_topic
from tests.support.kafka_server import KafkaServer
from tests.support.postgres_server import PostgresServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

EVENT_TYPE = "lobu.test.thing.happened.v1"
MAX_ATTEMPTS = 3
EXTRA_HEADERS = {"traceparent": b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}


@pytest_asyncio.fixture(loop_scope="session")
async def engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    with postgres.database("dead_letters") as url:
        engine = create_engine(url)
        await create_consumer_tables(engine)
        yield engine
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def topic(kafka: KafkaServer) -> str:
    # One partition: the offsets below are the records' positions on the topic.
    name = f"test.dead-letters-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, name, f"{name}.dlq", partitions=1)
    return name


@pytest_asyncio.fixture(loop_scope="session")
async def connection(kafka: KafkaServer) -> AsyncIterator[KafkaConnection]:
    """The dead letters' way out, as a service has it."""
    connection = await connected(kafka, "dead-letter-test")
    yield connection
    await connection.stop()


class FailsOnBad:
    """A handler that writes its effect and then fails, every time, for subject "bad"."""

    def __init__(self, before_failing: Callable[[], Any] | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self._before_failing = before_failing

    async def __call__(self, session: AsyncSession, event: Envelope) -> None:
        self.calls[event.subject or ""] += 1
        await record_effect(session, event.id)  # rolled back with the failure
        if event.subject == "bad":
            if self._before_failing is not None:
                await self._before_failing()
            raise RuntimeError("this handler fails every time")


def consumer(
    group: str, engine: AsyncEngine, handler: FailsOnBad, publish: PublishRecord
) -> ReliableConsumer:
    return ReliableConsumer(
        name=group,
        sessions=create_session_factory(engine),
        handlers={EVENT_TYPE: handler},
        publish=publish,
        metrics=ServiceMetrics(service="test"),
        max_attempts=MAX_ATTEMPTS,
        retry_backoff_seconds=0.05,
    )


async def publish(kafka: KafkaServer, topic: str, event: Envelope) -> dict[str, bytes]:
    """Publish `event` with an extra header; return the headers it went out with."""
    record = to_kafka_record(event)
    headers = {**record.headers, **EXTRA_HEADERS}
    await publish_raw(
        kafka.bootstrap_servers, topic, value=record.value, key=b"same-key", headers=headers
    )
    return headers


async def committed_offset(kafka: KafkaServer, group: str) -> int:
    """The group's committed offset on its one partition (0 while none is)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka.bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return max((meta.offset for meta in offsets.values()), default=0)


async def inbox_entries(engine: AsyncEngine, group: str, event_id: str) -> int:
    async with create_session_factory(engine)() as session:
        found = await session.scalar(
            select(func.count()).where(
                col(InboxMessage.consumer) == group, col(InboxMessage.event_id) == event_id
            )
        )
        return int(found or 0)


async def letters_of(kafka: KafkaServer, topic: str, event: Envelope) -> list[SeenRecord]:
    """The dead letters of `event`, once there is one."""

    def has_one(seen: list[SeenRecord]) -> bool:
        return any(letter.headers.get("ce_id") == event.id.encode() for letter in seen)

    seen = await read_topic(kafka.bootstrap_servers, f"{topic}.dlq", until=has_one, timeout=180)
    return [letter for letter in seen if letter.headers.get("ce_id") == event.id.encode()]


def assert_is_the_letter_of(
    letter: SeenRecord, headers: dict[str, bytes], topic: str, group: str
) -> None:
    kept = {name: raw for name, raw in letter.headers.items() if not name.startswith("lobu-dlq-")}
    assert kept == headers
    assert letter.key == b"same-key"
    assert letter.headers["lobu-dlq-reason"] == b"failed"
    assert letter.headers["lobu-dlq-consumer"] == group.encode()
    assert letter.headers["lobu-dlq-original-topic"] == topic.encode()
    assert letter.headers["lobu-dlq-original-offset"] == b"0"
    assert letter.headers["lobu-dlq-error"].startswith(b"RuntimeError")


async def test_a_record_that_always_fails_is_dead_lettered_after_its_attempts_and_the_next_handled(
    kafka: KafkaServer, engine: AsyncEngine, topic: str, connection: KafkaConnection
) -> None:
    group = f"test-dlq-{uuid.uuid4().hex[:6]}"
    sessions = create_session_factory(engine)
    bad, good = envelope(EVENT_TYPE, subject="bad"), envelope(EVENT_TYPE, subject="good")
    handler = FailsOnBad()
    member = consumer(group, engine, handler, connection.publish)
    headers = await publish(kafka, topic, bad)

    async with running_consumer(kafka.bootstrap_servers, member, [topic]):
        [letter] = await letters_of(kafka, topic, bad)
        await eventually(
            lambda: committed_offset(kafka, group), timeout=60, what="the offset committed"
        )
        assert await committed_offset(kafka, group) == 1  # past the dead-lettered record
        await publish(kafka, topic, good)
        await eventually(
            lambda: effect_count(sessions, good.id), timeout=60, what="the next record handled"
        )
        await eventually(
            lambda: _at_least(committed_offset(kafka, group), 2), timeout=60, what="its offset"
        )

    assert handler.calls == {"bad": MAX_ATTEMPTS, "good": 1}
    assert_is_the_letter_of(letter, headers, topic, group)
    assert letter.value == to_kafka_record(bad).value
    assert await effect_count(sessions, bad.id) == 0  # every attempt rolled back
    assert await inbox_entries(engine, group, bad.id) == 0
    assert await inbox_entries(engine, group, good.id) == 1
    assert (
        member._metrics.registry.get_sample_value(
            "lobu_dead_letters_total",
            {"service": "test", "group": group, "topic": topic, "reason": "failed"},
        )
        == 1
    )


async def _at_least(value: Any, minimum: int) -> bool:
    return int(await value) >= minimum


class SpyPublish:
    """The service's publish, counting failures and reading the group's committed offset
    the moment a dead letter is durable (before the consumer may commit its record)."""

    def __init__(self, publish: PublishRecord, kafka: KafkaServer, group: str) -> None:
        self._publish = publish
        self._kafka = kafka
        self._group = group
        self.failures = 0
        self.committed_when_durable: list[int] = []

    async def __call__(self, topic: str, record: KafkaRecord) -> None:
        try:
            await self._publish(topic, record)
        except Exception:
            self.failures += 1
            raise
        try:  # never fail the consumer's publish after the letter is out: it would send it again
            position = await group_position(self._kafka, self._group, topic)
        except Exception as error:
            logging.getLogger(__name__).warning("could not read the group's offset: %r", error)
            position = -1
        self.committed_when_durable.append(position)


async def group_position(kafka: KafkaServer, group: str, topic: str) -> int:
    """The group's committed offset on `topic`'s partition (or, for `<topic>.dlq`, on
    `<topic>`'s), 0 when none.

    Read as a member would read it (an OffsetFetch that waits while the restarted
    broker is still loading the group), without joining the group.
    """
    reader = AIOKafkaConsumer(
        bootstrap_servers=kafka.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await reader.start()
    try:
        partition = TopicPartition(topic.removesuffix(".dlq"), 0)
        return int(await reader.committed(partition) or 0)
    finally:
        await reader.stop()


@asynccontextmanager
async def running_with_commits(
    kafka: KafkaServer, member: ReliableConsumer, topic: str
) -> AsyncIterator[OffsetCommits]:
    """`member` subscribed as `running_consumer` does it, with its offset committer."""
    broker = create_broker(
        bootstrap_servers=kafka.bootstrap_servers,
        service=f"test-{member.name}",
        metrics=ServiceMetrics(service="test"),
    )
    commits = subscribe(broker, member, [topic])
    await broker.start()
    try:
        yield commits
    finally:
        await commits.close()
        await broker.stop()


def _idle(commits: OffsetCommits) -> bool:
    """Nothing pending and no commit under way (the committer's own state)."""
    task = commits._task
    return not commits._pending and (task is None or task.done())


async def _either(first: bool, second: Awaitable[int]) -> bool:
    other = await second
    return first or bool(other)


async def test_a_dead_letter_while_kafka_is_down_waits_for_kafka_and_nothing_is_skipped(
    kafka: KafkaServer,
    engine: AsyncEngine,
    topic: str,
    connection: KafkaConnection,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert kafka.can_restart, f"this test stops and starts the broker; {kafka.how} cannot"
    caplog.set_level(logging.WARNING, logger="lobu.shared.consumer")
    group = f"test-dlq-outage-{uuid.uuid4().hex[:6]}"
    sessions = create_session_factory(engine)
    bad, good = envelope(EVENT_TYPE, subject="bad"), envelope(EVENT_TYPE, subject="good")
    # Both are on the topic before the consumer starts: `good` is right behind `bad`.
    headers = await publish(kafka, topic, bad)
    await publish(kafka, topic, good)
    entered, kafka_down = asyncio.Event(), asyncio.Event()

    async def wait_for_the_outage() -> None:
        entered.set()
        await kafka_down.wait()

    handler = FailsOnBad(before_failing=wait_for_the_outage)
    spy = SpyPublish(connection.publish, kafka, group)
    member = consumer(group, engine, handler, spy)
    down = False
    try:
        async with running_with_commits(kafka, member, topic) as commits:
            await asyncio.wait_for(entered.wait(), timeout=120)
            # Whatever the subscription handed to its committer so far is on the broker now.
            await eventually(lambda: _idle(commits), timeout=60, what="the committer idle")
            assert await group_position(kafka, group, topic) == 0, "committed while handling"
            await asyncio.to_thread(kafka.stop)
            down = True
            kafka_down.set()
            # Until the letter is out, the consumer keeps trying, and does not move on.
            await eventually(
                lambda: _either(spy.failures >= 2, effect_count(sessions, good.id)),
                timeout=180,
                what="two failed dead-letter attempts",
            )
            assert await effect_count(sessions, good.id) == 0, "moved on without the letter"
            assert handler.calls == {"bad": MAX_ATTEMPTS}

            await asyncio.to_thread(kafka.start)
            down = False
            letters = await letters_of(kafka, topic, bad)
            await eventually(
                lambda: effect_count(sessions, good.id), timeout=180, what="the next record"
            )
            await eventually(
                lambda: _at_least(committed_offset(kafka, group), 2),
                timeout=120,
                what="both offsets committed",
            )
    finally:
        if down:
            await asyncio.to_thread(kafka.start)

    assert any("cannot dead-letter yet" in r.getMessage() for r in caplog.records)
    # The offset was not committed before the letter was on the broker.
    assert spy.committed_when_durable[0] == 0
    # A letter may come twice (a rebalance after the restart reads `bad` again); never none.
    assert letters
    for letter in letters:
        assert {n: v for n, v in letter.headers.items() if not n.startswith("lobu-dlq-")} == headers
        assert letter.headers["lobu-dlq-reason"] == b"failed"
    assert handler.calls["good"] == 1
    assert await effect_count(sessions, bad.id) == 0
    assert await inbox_entries(engine, group, bad.id) == 0
    assert await inbox_entries(engine, group, good.id) == 1
