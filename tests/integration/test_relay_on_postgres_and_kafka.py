"""The outbox relay on PostgreSQL and the real broker: per-key order, a refused row parked
without blocking other keys, two relays side by side, nothing lost while Kafka is down,
a reconnection that ends the back-off, and header bytes published exactly."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.clock import utc_now
from lobu.shared.database import transaction
from lobu.shared.envelope import KafkaRecord, from_kafka_record
from lobu.shared.kafka import KafkaConnection
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage
from lobu.shared.outbox_parking import parked_rows
from lobu.shared.relay import OutboxRelay
from tests.integration.conftest import connected
from tests.shared.shared_fakes import FakeKafka
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Seen:
    """A record read back off the topic."""

    key: str
    version: int
    event_id: str
    headers: dict[str, bytes]


def new_topic() -> str:
    return f"relay-test.{uuid.uuid4().hex[:10]}"


async def write(
    sessions: Sessions, topic: str, rows: Sequence[tuple[str, int]], pad: int = 0
) -> None:
    """One outbox row per (key, version), in this order, each in its own transaction."""
    for key, version in rows:
        async with transaction(sessions) as session:
            session.add(
                OutboxMessage(
                    event_id=str(uuid.uuid4()), topic=topic,
                    event_type="lobu.test.thing.changed.v1", source="/lobu/test", subject=key,
                    data={"version": version, "pad": "x" * pad}, occurred_at=utc_now(),
                )
            )  # fmt: skip


async def unpublished(sessions: Sessions) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).where(col(OutboxMessage.published_at).is_(None))
        )
        return int(count or 0)


async def read_to_end(bootstrap_servers: str, topic: str) -> list[Seen]:
    """Every event on `topic` up to the end offsets as they are now, decoded."""
    seen = []
    for key, value, headers in await read_raw(bootstrap_servers, topic):
        event = from_kafka_record(headers, key, value)
        seen.append(Seen(event.subject, int(event.data["version"]), event.id, headers))
    return seen


async def read_raw(
    bootstrap_servers: str, topic: str
) -> list[tuple[bytes | None, bytes | None, dict[str, bytes]]]:
    """Every record on `topic` up to the end offsets as they are now (no idle guessing)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            await consumer._client._wait_on_metadata(topic)
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        seen: list[tuple[bytes | None, bytes | None, dict[str, bytes]]] = []
        deadline = time.monotonic() + 60
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read {topic} to its end offsets {ends}")
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    seen.append((record.key, record.value, dict(record.headers or ())))
        return seen
    finally:
        await consumer.stop()


def versions_by_key(seen: Sequence[Seen]) -> dict[str, list[int]]:
    by_key: dict[str, list[int]] = {}
    for record in seen:
        by_key.setdefault(record.key, []).append(record.version)
    return by_key


def relay_for(sessions: Sessions, connection: KafkaConnection, **options: float) -> OutboxRelay:
    return OutboxRelay(
        sessions,
        connection.publish,
        metrics=ServiceMetrics(service="relay-test"),
        kafka_answers=connection.ping,
        **{"poll_seconds": 0.1, **options},  # type: ignore[arg-type]
    )


async def test_every_row_reaches_the_topic_once_and_in_order_per_key(
    pg_sessions: Sessions, kafka_connection: KafkaConnection, kafka: KafkaServer
) -> None:
    topic = new_topic()
    await write(pg_sessions, topic, [(f"k{k}", v) for v in range(1, 6) for k in range(6)])
    relay = relay_for(pg_sessions, kafka_connection, batch_size=7)

    while await relay.publish_pending():
        pass

    seen = await read_to_end(kafka.bootstrap_servers, topic)
    assert len({record.event_id for record in seen}) == len(seen) == 30
    assert versions_by_key(seen) == {f"k{k}": [1, 2, 3, 4, 5] for k in range(6)}


async def test_a_record_kafka_refuses_is_parked_and_holds_back_only_its_own_key(
    pg_sessions: Sessions, kafka_connection: KafkaConnection, kafka: KafkaServer
) -> None:
    topic = new_topic()
    await write(pg_sessions, topic, [("a", 1), ("big", 1)])
    await write(pg_sessions, topic, [("big", 2)], pad=2_000_000)  # over max_request_size
    await write(pg_sessions, topic, [("big", 3), ("a", 2), ("c", 1)])
    relay = relay_for(pg_sessions, kafka_connection, max_attempts=3)

    for _ in range(3):
        with contextlib.suppress(Exception):  # the refusal is raised after the round
            await relay.publish_pending()

    seen = await read_to_end(kafka.bootstrap_servers, topic)
    assert versions_by_key(seen) == {"a": [1, 2], "big": [1], "c": [1]}
    [parked] = await parked_rows(pg_sessions)
    assert (parked.subject, parked.data["version"], parked.attempts) == ("big", 2, 3)
    assert "MessageSizeTooLarge" in str(parked.last_error)
    assert await unpublished(pg_sessions) == 2  # the parked row and big 3 behind it
    assert (await relay.publish_round()).published == 0


async def test_two_relays_publish_every_row_once_and_keep_each_keys_order(
    pg_sessions: Sessions, kafka: KafkaServer
) -> None:
    topic = new_topic()
    # Few keys, many versions, small batches: without a single publishing relay the
    # second replica claims a key's later rows while the first still sends earlier ones.
    await write(pg_sessions, topic, [(f"k{k}", v) for v in range(1, 31) for k in range(4)])
    connections = [await connected(kafka, f"relay-{n}") for n in range(2)]
    relays = [relay_for(pg_sessions, c, batch_size=5) for c in connections]
    try:
        for relay in relays:
            relay.start()
        await eventually(
            lambda: _none_left(pg_sessions), timeout=120, what="both relays to drain the outbox"
        )
    finally:
        for relay in relays:
            await relay.stop()
        for connection in connections:
            await connection.stop()

    seen = await read_to_end(kafka.bootstrap_servers, topic)
    assert len({record.event_id for record in seen}) == len(seen) == 120
    assert versions_by_key(seen) == {f"k{k}": list(range(1, 31)) for k in range(4)}


async def _none_left(sessions: Sessions) -> bool:
    return await unpublished(sessions) == 0


async def test_rows_written_before_during_and_after_an_outage_arrive_once_in_order(
    pg_sessions: Sessions, kafka_connection: KafkaConnection, kafka: KafkaServer
) -> None:
    assert kafka.can_restart, f"this test stops and starts the broker; {kafka.how} cannot"
    topic = new_topic()
    relay = relay_for(pg_sessions, kafka_connection)
    kafka_connection.on_reachable(relay.wake)
    relay.start()
    try:
        await write(pg_sessions, topic, [("a", v) for v in range(1, 6)])
        await eventually(lambda: _none_left(pg_sessions), timeout=60, what="the first rows")
        await write(pg_sessions, topic, [("a", 6), ("b", 1)])  # in flight at the stop
        await asyncio.to_thread(kafka.stop)
        await write(pg_sessions, topic, [("a", v) for v in range(7, 11)] + [("b", 2)])
        await asyncio.to_thread(kafka.start)
        ready = time.monotonic()
        await write(pg_sessions, topic, [("a", v) for v in range(11, 16)] + [("b", 3)])
        await eventually(lambda: _none_left(pg_sessions), timeout=120, what="every row")
        print(f"all published {time.monotonic() - ready:.1f} s after the broker was ready")
    finally:
        await relay.stop()

    seen = await read_to_end(kafka.bootstrap_servers, topic)
    assert len({record.event_id for record in seen}) == len(seen) == 18
    assert versions_by_key(seen) == {"a": list(range(1, 16)), "b": [1, 2, 3]}


async def test_a_relay_backing_off_publishes_as_soon_as_kafka_connects(
    pg_sessions: Sessions, kafka: KafkaServer
) -> None:
    from lobu.shared.kafka import create_broker

    metrics = ServiceMetrics(service="relay-late")
    broker = create_broker(
        bootstrap_servers=kafka.bootstrap_servers, service="late", metrics=metrics
    )
    connection = KafkaConnection(broker, bootstrap_servers=kafka.bootstrap_servers, metrics=metrics)
    # A back-off far longer than the wait below: only the reconnection can end it in time.
    relay = relay_for(
        pg_sessions, connection, poll_seconds=600, backoff_seconds=600, max_backoff_seconds=600
    )
    connection.on_reachable(relay.wake)
    topic = new_topic()
    await write(pg_sessions, topic, [("a", 1)])
    relay.start()
    try:
        await eventually(
            lambda: _first_error_recorded(pg_sessions), timeout=60, what="a failed first round"
        )
        connection.start()
        await eventually(
            lambda: _none_left(pg_sessions), timeout=60, what="the row after connecting"
        )
    finally:
        await relay.stop()
        await connection.stop()
    [row] = await read_to_end(kafka.bootstrap_servers, topic)
    assert (row.key, row.version) == ("a", 1)


async def _first_error_recorded(sessions: Sessions) -> bool:
    async with sessions() as session:
        error = await session.scalar(select(OutboxMessage.last_error))
        return error is not None


async def test_header_bytes_are_published_exactly_as_given(
    kafka_connection: KafkaConnection, kafka: KafkaServer
) -> None:
    topic = new_topic()
    value = b'{"version": 1}'
    headers = {
        "ce_id": b"e-1", "ce_source": b"/lobu/test", "ce_type": b"lobu.test.thing.changed.v1",
        "ce_specversion": b"1.0", "ce_subject": b"a",
        "lobu-dlq-error": b"caf\xc3\xa9 \xff\xfe\x00 not UTF-8",
    }  # fmt: skip

    await kafka_connection.publish(topic, KafkaRecord(headers=headers, key=b"a", value=value))

    [(key, read_value, read_headers)] = await read_raw(kafka.bootstrap_servers, topic)
    assert (key, read_value, read_headers) == (b"a", value, headers)


async def test_a_row_another_transaction_holds_is_waited_for_not_skipped(
    pg_sessions: Sessions,
) -> None:
    topic = new_topic()
    await write(pg_sessions, topic, [("a", 1), ("a", 2)])
    kafka = FakeKafka()
    relay = OutboxRelay(pg_sessions, kafka, metrics=ServiceMetrics(service="relay-test"))

    async with pg_sessions() as holder, holder.begin():
        await holder.execute(
            select(OutboxMessage).order_by(col(OutboxMessage.position)).limit(1).with_for_update()
        )
        first_round = asyncio.create_task(relay.publish_pending())
        await eventually(
            lambda: first_round.done() or _someone_waits_for_a_lock(pg_sessions),
            timeout=60,
            what="the relay's round to wait for the held row (or to skip it)",
        )
    await first_round
    await relay.publish_pending()

    assert [record.key for _, record in kafka.sent] == [b"a", b"a"]
    assert [int(json.loads(record.value)["version"]) for _, record in kafka.sent] == [1, 2]


async def _someone_waits_for_a_lock(sessions: Sessions) -> bool:
    async with sessions() as session:
        waiting = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
        return bool(waiting)
