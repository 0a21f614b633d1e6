"""Reading and replaying dead-letter topics (for operators, through `lobu dlq`)."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lobu.shared.dead_letter import DLQ_HEADER_PREFIX, original_record

REPLAY_GROUP = "lobu-dlq-replay"


async def read_dead_letters(topic: str, *, bootstrap_servers: str) -> list[dict[str, Any]]:
    """Every record on a dead-letter topic, with its lobu-dlq headers, without consuming it."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest",
        enable_auto_commit=False, group_id=None,
    )  # fmt: skip
    await consumer.start()
    letters = []
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        while batches:
            for records in batches.values():
                for record in records:
                    headers = dict(record.headers or ())
                    letters.append(
                        {
                            "offset": record.offset,
                            "partition": record.partition,
                            "key": record.key.decode(errors="replace") if record.key else None,
                            **{
                                name.removeprefix(DLQ_HEADER_PREFIX): value.decode(errors="replace")
                                for name, value in headers.items()
                                if name.startswith(DLQ_HEADER_PREFIX)
                            },
                        }
                    )
            batches = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()
    return letters


async def replay_dead_letters(
    topic: str, *, bootstrap_servers: str, limit: int | None = None
) -> int:
    """Publish dead letters back to their original topic; commit as they go out."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap_servers, group_id=REPLAY_GROUP,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    await consumer.start()
    await producer.start()
    replayed = 0
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        while batches and (limit is None or replayed < limit):
            for records in batches.values():
                for record in records:
                    if limit is not None and replayed >= limit:
                        break
                    original_topic, original = original_record(
                        record.headers or (), record.key, record.value or b""
                    )
                    await producer.send_and_wait(
                        original_topic,
                        original.value,
                        key=original.key,
                        headers=list(original.headers.items()),
                    )
                    replayed += 1
            await consumer.commit()
            batches = await consumer.getmany(timeout_ms=1000)
    finally:
        await consumer.stop()
        await producer.stop()
    return replayed
