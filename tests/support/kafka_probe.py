"""Reading and writing raw Kafka records from tests, with plain aiokafka clients.

Reads end at the topic's end offsets (what the broker holds now), never at a pause:
a test that expects more records says so with `until`, and waits for them with a
generous limit. `caught_up` tells when a consumer group has handled everything.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@dataclass(frozen=True)
class SeenRecord:
    """A record as a test sees it."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    offset: int
    partition: int = 0


async def _partitions(bootstrap_servers: str, topic: str) -> list[TopicPartition]:
    """The partitions of `topic` as the broker knows them now (none while it does not exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [
        TopicPartition(topic, partition["partition"])
        for found in described
        if found["topic"] == topic and found["error_code"] == 0
        for partition in sorted(found["partitions"], key=lambda p: int(p["partition"]))
    ]


async def read_topic(
    bootstrap_servers: str,
    topic: str,
    *,
    until: Callable[[list[SeenRecord]], bool] | None = None,
    timeout: float = 60.0,
) -> list[SeenRecord]:
    """Every record on `topic` from the beginning up to its end offsets.

    With `until`, reading goes on past the end offsets (as more records arrive) until
    `until(records)` holds; AssertionError after `timeout` seconds. A topic that does
    not exist has no records.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    deadline = time.monotonic() + timeout
    seen: list[SeenRecord] = []
    try:
        partitions = await _partitions(bootstrap_servers, topic)
        while not partitions and until is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            partitions = await _partitions(bootstrap_servers, topic)
        if not partitions:
            if until is None or until(seen):
                return seen
            raise AssertionError(f"topic {topic} did not appear within {timeout} s")
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        while True:
            ends = await consumer.end_offsets(partitions)
            while any([await consumer.position(p) < ends[p] for p in partitions]):
                if time.monotonic() > deadline:
                    raise AssertionError(f"could not read {topic} to its end in {timeout} s")
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    seen.extend(
                        SeenRecord(
                            topic=record.topic,
                            key=record.key,
                            value=record.value,
                            headers=dict(record.headers or ()),
                            offset=record.offset,
                            partition=record.partition,
                        )
                        for record in records
                    )
            if until is None or until(seen):
                return seen
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the records on {topic} ({len(seen)} of them) did not satisfy the "
                    f"condition within {timeout} s"
                )
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


async def caught_up(bootstrap_servers: str, group: str, topics: list[str]) -> bool:
    """True when consumer group `group` has committed every record now on `topics`."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await reader.start()
    await admin.start()
    try:
        partitions = [p for topic in topics for p in await _partitions(bootstrap_servers, topic)]
        ends = await reader.end_offsets(partitions) if partitions else {}
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
        await reader.stop()
    for partition, end in ends.items():
        done = committed.get(partition)
        if end > 0 and (done is None or done.offset < end):
            return False
    return True


async def skip_backlog(bootstrap_servers: str, group: str, topics: list[str]) -> bool:
    """Commit the current end offsets of `topics` for consumer group `group`.

    A service started afterwards reads only what comes later, instead of every record
    earlier tests of the session left on the shared broker (minutes on a full run). True
    when committed; False when the broker refused, e.g. because a member of the group
    is still alive (then the service reads the backlog, which is slow but still right).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [p for topic in topics for p in await _partitions(bootstrap_servers, topic)]
        if not partitions:
            return True
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends))
        return True
    except Exception:
        return False
    finally:
        await consumer.stop()


async def publish_raw(
    bootstrap_servers: str,
    topic: str,
    *,
    value: bytes,
    key: bytes | None = None,
    headers: dict[str, bytes] | None = None,
) -> None:
    """Put one record on `topic` exactly as given (for duplicates and poison messages)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=list((headers or {}).items()))
    finally:
        await producer.stop()
