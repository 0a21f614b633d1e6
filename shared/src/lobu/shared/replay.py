"""Reading and replaying dead-letter topics (for operators, through `lobu dlq`).

A replay reads a dead-letter topic up to the end offsets it saw when it started, per
partition, and no further: a replayed record that fails again is dead-lettered
again, after those offsets, and waits for the next replay instead of looping. It
commits, in the group `lobu-dlq-replay`, exactly the position after the last letter it
dealt with (replayed, or refused and reported), so `--limit N` replays N and the next
run goes on from there. A letter whose record does not pass its topic's contract (a
CloudEvent of a type the registry names for that topic, with valid data) is never put
back: it stays on the dead-letter topic and is reported. Run one replay of a topic at
a time.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from lobu.shared.contracts import EVENT_DEFINITIONS, EventDefinition
from lobu.shared.dead_letter import DLQ_HEADER_PREFIX, original_record
from lobu.shared.envelope import EnvelopeError, KafkaRecord, from_kafka_record
from lobu.shared.safe_errors import describe_error

REPLAY_GROUP = "lobu-dlq-replay"


class ReplayRefusedError(ValueError):
    """A dead letter that must not go back to its topic (its text holds no values)."""


@dataclass(frozen=True)
class RefusedLetter:
    """A dead letter left on the dead-letter topic, and why."""

    partition: int
    offset: int
    reason: str


@dataclass
class ReplaySummary:
    """What one replay did, per dead-letter partition."""

    topic: str
    end_offsets: dict[int, int] = field(default_factory=dict)
    replayed: list[tuple[int, int]] = field(default_factory=list)
    refused: list[RefusedLetter] = field(default_factory=list)
    committed: dict[int, int] = field(default_factory=dict)

    @property
    def left(self) -> int:
        """Letters before the end offsets seen at start that this run did not reach."""
        return sum(end - self.committed.get(p, end) for p, end in self.end_offsets.items())


async def _letters_up_to_end(
    consumer: AIOKafkaConsumer, topic: str, end_offsets: dict[int, int]
) -> AsyncGenerator[ConsumerRecord[bytes, bytes], None]:
    """The letters of `topic` from the consumer's positions up to `end_offsets`, no further."""
    pending = set()
    for partition, end in end_offsets.items():
        if await consumer.position(TopicPartition(topic, partition)) < end:
            pending.add(TopicPartition(topic, partition))
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=1000)
        for partition, records in batches.items():
            for record in records:
                if record.offset >= end_offsets[partition.partition]:
                    break
                yield record
        for partition in list(pending):
            # Positions pass control records and compacted gaps too.
            if await consumer.position(partition) >= end_offsets[partition.partition]:
                pending.discard(partition)


async def _assign_all(
    consumer: AIOKafkaConsumer, topic: str, *, bootstrap_servers: str
) -> dict[int, int]:
    """Assign every partition of `topic` and return its end offsets (empty if no topic)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        # Asking for all topics first: a metadata request naming one may create it.
        if topic not in await admin.list_topics():
            return {}
        [description] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, int(p["partition"])) for p in description["partitions"]]
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    return {partition.partition: offset for partition, offset in sorted(ends.items())}


async def read_dead_letters(topic: str, *, bootstrap_servers: str) -> list[dict[str, Any]]:
    """The records on a dead-letter topic now, with their lobu-dlq headers, without consuming.

    Header values are decoded for display only (undecodable bytes as U+FFFD).
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )  # fmt: skip
    letters = []
    try:
        await consumer.start()
        end_offsets = await _assign_all(consumer, topic, bootstrap_servers=bootstrap_servers)
        async for record in _letters_up_to_end(consumer, topic, end_offsets):
            headers = dict(record.headers or ())
            letters.append(
                {
                    "offset": record.offset,
                    "partition": record.partition,
                    "key": record.key.decode(errors="replace") if record.key else None,
                    **{
                        name.removeprefix(DLQ_HEADER_PREFIX): (value or b"").decode(
                            errors="replace"
                        )
                        for name, value in headers.items()
                        if name.startswith(DLQ_HEADER_PREFIX)
                    },
                }
            )
    finally:
        await consumer.stop()
    return letters


def check_replayable(
    topic: str, record: KafkaRecord, contracts: Mapping[str, EventDefinition]
) -> None:
    """Raise ReplayRefusedError unless `record` passes the contract of `topic`."""
    try:
        envelope = from_kafka_record(record.headers, record.key, record.value)
    except EnvelopeError as error:
        raise ReplayRefusedError(f"not a CloudEvent: {describe_error(error)}") from None
    definition = contracts.get(envelope.type)
    if definition is None:
        raise ReplayRefusedError(f"no contract names the event type {envelope.type}")
    if definition.topic != topic:
        raise ReplayRefusedError(f"{envelope.type} belongs on {definition.topic}, not on {topic}")
    try:
        definition.data_model.model_validate(envelope.data)
    except ValidationError as error:
        raise ReplayRefusedError(f"breaks the contract: {describe_error(error)}") from None


async def replay_dead_letters(
    topic: str,
    *,
    bootstrap_servers: str,
    limit: int | None = None,
    contracts: Mapping[str, EventDefinition] = EVENT_DEFINITIONS,
) -> ReplaySummary:
    """Put the dead letters of `topic` back on their topics, up to the end seen at start."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=REPLAY_GROUP,
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
    )
    summary = ReplaySummary(topic=topic)
    try:
        await consumer.start()
        await producer.start()
        summary.end_offsets = await _assign_all(
            consumer, topic, bootstrap_servers=bootstrap_servers
        )
        for partition in summary.end_offsets:
            summary.committed[partition] = await consumer.position(TopicPartition(topic, partition))
        letters = _letters_up_to_end(consumer, topic, summary.end_offsets)
        async with aclosing(letters):
            async for letter in letters:
                if limit is not None and len(summary.replayed) >= limit:
                    break
                await _replay_one(letter, producer, contracts, summary)
                # Exactly what was dealt with: the next run starts after this letter.
                next_offset = letter.offset + 1
                await consumer.commit({TopicPartition(topic, letter.partition): next_offset})
                summary.committed[letter.partition] = next_offset
    finally:
        await consumer.stop()
        await producer.stop()
    return summary


async def _replay_one(
    letter: ConsumerRecord[bytes, bytes],
    producer: AIOKafkaProducer,
    contracts: Mapping[str, EventDefinition],
    summary: ReplaySummary,
) -> None:
    try:
        original_topic, original = original_record(
            letter.headers or (), letter.key, letter.value or b""
        )
        check_replayable(original_topic, original, contracts)
    except ValueError as error:  # ReplayRefusedError, or not a lobu dead letter at all
        summary.refused.append(RefusedLetter(letter.partition, letter.offset, str(error)))
        return
    await producer.send_and_wait(
        original_topic, original.value, key=original.key, headers=list(original.headers.items())
    )
    summary.replayed.append((letter.partition, letter.offset))
