"""The relay keeps each key's order through failures, parks rows Kafka keeps refusing, and
wakes out of its back-off (with fake publish functions on SQLite; the same claims run
on PostgreSQL and the real broker in tests/integration)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    AllianceCreated,
    AllianceDeleted,
)
from lobu.shared.database import transaction
from lobu.shared.envelope import KafkaRecord, from_kafka_record
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage, add_event
from lobu.shared.outbox_parking import parked_rows, release_parked
from lobu.shared.relay import OutboxRelay
from tests.shared.shared_fakes import FakeKafka
from tests.support.waiting import eventually

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]

NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
SOURCE = "/lobu/directory"


def created(alliance_id: str) -> AllianceCreated:
    return AllianceCreated(
        id=alliance_id, slug=f"buendnis-{alliance_id}", name="Bündnis für Familie Jena",
        state="TH", postal_code="07743", city="Jena", version=1, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


async def write_versions(sessions: async_sessionmaker[AsyncSession], *keys: str) -> None:
    """created then deleted for each key, in separate transactions, keys interleaved."""
    for event_type, data in ((ALLIANCE_CREATED, created), (ALLIANCE_DELETED, None)):
        for key in keys:
            async with transaction(sessions) as session:
                add_event(
                    session,
                    event_type=event_type,
                    source=SOURCE,
                    subject=key,
                    data=data(key) if data else AllianceDeleted(id=key, version=2, deleted_at=NOW),
                )


async def all_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        result = await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.position)))
        return list(result.all())


def versions_by_key(sent: list[tuple[str, KafkaRecord]]) -> dict[bytes | None, list[int]]:
    """The `version` of every record as it reached "Kafka", per key, in arrival order."""
    seen: dict[bytes | None, list[int]] = {}
    for _topic, record in sent:
        event = from_kafka_record(record.headers, record.key, record.value)
        seen.setdefault(record.key, []).append(int(event.data["version"]))
    return seen


@dataclass
class BufferingKafka:
    """Like aiokafka: a record handed over is in the producer's buffer and reaches the
    topic whether or not its caller still waits; the first send of `fail_first_of`
    is refused a moment later (after other sends had their chance)."""

    fail_first_of: bytes
    sent: list[tuple[str, KafkaRecord]] = field(default_factory=list)
    failed: bool = False

    async def __call__(self, topic: str, record: KafkaRecord) -> None:
        if record.key == self.fail_first_of and not self.failed:
            self.failed = True
            await asyncio.sleep(0.05)
            raise ConnectionError("request timed out")
        self.sent.append((topic, record))
        await asyncio.sleep(0)


async def test_a_refused_record_never_lets_a_later_record_of_its_key_overtake_it(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_versions(sessions, "a-1", "a-2")
    kafka = BufferingKafka(fail_first_of=b"a-1")
    relay = OutboxRelay(sessions, kafka, metrics=metrics)

    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    await relay.publish_pending()

    assert versions_by_key(kafka.sent) == {b"a-1": [1, 2], b"a-2": [1, 2]}
    assert all(row.published_at is not None for row in await all_rows(sessions))


async def test_a_row_kafka_keeps_refusing_is_parked_and_the_other_keys_go_on(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_versions(sessions, "a-1", "poison", "a-3")
    kafka = FakeKafka(fail_when=lambda _topic, record: record.key == b"poison")
    kafka.error = lambda: ValueError("the record is too large")
    relay = OutboxRelay(sessions, kafka, metrics=metrics, max_attempts=3)

    for _ in range(3):
        with pytest.raises(ValueError, match="too large"):
            await relay.publish_pending()
    assert await relay.publish_pending() == 0  # nothing left that may go out

    assert versions_by_key(kafka.sent) == {b"a-1": [1, 2], b"a-3": [1, 2]}
    [parked] = await parked_rows(sessions)
    assert (parked.subject, parked.attempts, parked.data["version"]) == ("poison", 3, 1)
    assert parked.last_error == "ValueError: the record is too large"
    waiting = [row for row in await all_rows(sessions) if row.published_at is None]
    assert [(row.subject, row.data["version"]) for row in waiting] == [
        ("poison", 1),
        ("poison", 2),
    ]
    await relay._update_gauges(force=True)
    labels = {"service": "shared-test"}
    assert metrics.registry.get_sample_value("lobu_outbox_parked", labels) == 1
    assert metrics.registry.get_sample_value("lobu_outbox_backlog", labels) == 2


async def test_a_released_row_goes_out_first_and_its_key_follows_in_order(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_versions(sessions, "a-1")
    kafka = FakeKafka(down=True)
    relay = OutboxRelay(sessions, kafka, metrics=metrics, max_attempts=1)
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    assert len(await parked_rows(sessions)) == 1

    kafka.down = False
    assert await relay.publish_pending() == 0  # parked: it waits for an operator
    assert await release_parked(sessions) == 1
    assert await relay.publish_pending() == 2

    assert versions_by_key(kafka.sent) == {b"a-1": [1, 2]}
    assert await parked_rows(sessions) == []


async def test_release_by_event_id_releases_only_that_row(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_versions(sessions, "a-1", "a-2")
    relay = OutboxRelay(sessions, FakeKafka(down=True), metrics=metrics, max_attempts=1)
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    first, second = await parked_rows(sessions)

    assert await release_parked(sessions, [second.event_id]) == 1

    assert [row.event_id for row in await parked_rows(sessions)] == [first.event_id]


async def test_while_kafka_does_not_answer_failures_count_no_attempts(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_versions(sessions, "a-1")
    kafka = FakeKafka(down=True)

    async def kafka_answers() -> bool:
        return not kafka.down

    relay = OutboxRelay(
        sessions, kafka, metrics=metrics, max_attempts=2, kafka_answers=kafka_answers
    )
    for _ in range(5):
        with pytest.raises(ConnectionError):
            await relay.publish_pending()

    first, _ = await all_rows(sessions)
    assert (first.attempts, first.parked_at) == (0, None)
    assert first.last_error == "ConnectionError: Kafka is down"


async def test_a_wake_ends_the_error_backoff_at_once(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    kafka = FakeKafka(down=True)
    # A back-off far longer than the wait below: only the wake can end it in time.
    relay = OutboxRelay(
        sessions, kafka, metrics=metrics, poll_seconds=600, backoff_seconds=600,
        max_backoff_seconds=600,
    )  # fmt: skip
    await write_versions(sessions, "a-1")
    relay.start()
    try:
        await eventually(lambda: kafka.attempts >= 1, timeout=60, what="a first, failed round")
        kafka.down = False
        relay.wake()
        await eventually(lambda: len(kafka.sent) == 2, timeout=60, what="the rows after the wake")
    finally:
        await relay.stop()
    assert versions_by_key(kafka.sent) == {b"a-1": [1, 2]}
