"""Reading and writing raw Kafka records from tests, with plain aiokafka clients."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass(frozen=True)
class SeenRecord:
    """A record as a test sees it."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: dict[str, bytes]
    offset: int


async def read_topic(
    bootstrap_servers: str, topic: str, *, idle_ms: int = 1500, max_wait_ms: int = 20000
) -> list[SeenRecord]:
    """Every record on `topic` from the beginning, once nothing new arrives for `idle_ms`."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: list[SeenRecord] = []
    try:
        waited = 0
        while waited < max_wait_ms:
            batches = await consumer.getmany(timeout_ms=idle_ms)
            if not batches and seen:
                break
            waited += idle_ms
            for records in batches.values():
                for record in records:
                    seen.append(
                        SeenRecord(
                            topic=record.topic,
                            key=record.key,
                            value=record.value,
                            headers=dict(record.headers or ()),
                            offset=record.offset,
                        )
                    )
    finally:
        await consumer.stop()
    return seen


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
