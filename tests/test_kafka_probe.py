"""The tests' Kafka reader ends at the end offsets or a condition, never at a pause."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from tests.support.kafka_probe import caught_up, publish_raw, read_topic, skip_backlog
from tests.support.kafka_server import KafkaServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


def new_topic() -> str:
    return f"test.probe-{uuid.uuid4().hex[:8]}"


async def test_a_topic_is_read_to_its_end_offsets(kafka: KafkaServer) -> None:
    topic = new_topic()
    for number in range(50):  # spread over the partitions
        await publish_raw(kafka.bootstrap_servers, topic, value=str(number).encode())

    records = await read_topic(kafka.bootstrap_servers, topic)

    assert sorted(int(record.value or b"") for record in records) == list(range(50))


async def test_a_topic_that_does_not_exist_has_no_records(kafka: KafkaServer) -> None:
    assert await read_topic(kafka.bootstrap_servers, new_topic()) == []


async def test_a_record_that_comes_late_is_waited_for_when_the_test_expects_it(
    kafka: KafkaServer,
) -> None:
    topic = new_topic()
    await publish_raw(kafka.bootstrap_servers, topic, value=b"first")

    async def publish_late() -> None:
        await asyncio.sleep(4)  # a slow producer, longer than any pause a reader might allow
        await publish_raw(kafka.bootstrap_servers, topic, value=b"late")

    late = asyncio.create_task(publish_late())
    records = await read_topic(
        kafka.bootstrap_servers, topic, until=lambda seen: len(seen) >= 2, timeout=60
    )
    await late

    assert [record.value for record in records] == [b"first", b"late"]


async def test_a_group_has_caught_up_once_it_committed_every_record(kafka: KafkaServer) -> None:
    topic, group = new_topic(), f"test-group-{uuid.uuid4().hex[:8]}"
    for number in range(3):
        await publish_raw(kafka.bootstrap_servers, topic, value=str(number).encode())
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        first = await consumer.getone()
        await consumer.commit({first_partition(consumer): first.offset + 1})
        assert not await caught_up(kafka.bootstrap_servers, group, [topic])
        await read_rest(consumer, 2)
        await consumer.commit()
    finally:
        await consumer.stop()

    assert await caught_up(kafka.bootstrap_servers, group, [topic])


def first_partition(consumer: AIOKafkaConsumer) -> object:
    return next(iter(consumer.assignment()))


async def read_rest(consumer: AIOKafkaConsumer, count: int) -> None:
    for _ in range(count):
        await consumer.getone()


async def test_a_group_that_skipped_the_backlog_reads_only_what_comes_later(
    kafka: KafkaServer,
) -> None:
    topic, group = new_topic(), f"test-group-{uuid.uuid4().hex[:8]}"
    for number in range(20):  # spread over the partitions
        await publish_raw(kafka.bootstrap_servers, topic, value=f"old-{number}".encode())

    assert await skip_backlog(kafka.bootstrap_servers, group, [topic])
    assert await caught_up(kafka.bootstrap_servers, group, [topic])
    await publish_raw(kafka.bootstrap_servers, topic, value=b"new")

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka.bootstrap_servers, group_id=group,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 60)
    finally:
        await consumer.stop()
    assert record.value == b"new"
