"""Test doubles: a Kafka publish function that records or fails, and a table for effects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.consumer import ReceivedRecord
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record

# Kept out of SQLModel.metadata, so no other test sees this table.
effects_metadata = MetaData()
effects = Table(
    "shared_test_effects",
    effects_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("note", String(200), nullable=False),
)


async def record_effect(session: AsyncSession, event_id: str, note: str = "done") -> None:
    """What a handler does: one row in the caller's transaction."""
    await session.execute(insert(effects).values(event_id=event_id, note=note))


async def effect_count(sessions: async_sessionmaker[AsyncSession], event_id: str) -> int:
    """How many effects `event_id` has left in the database."""
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(effects).where(effects.c.event_id == event_id)
        )
        return int(count or 0)


@dataclass
class FakeKafka:
    """A publish function `(topic, KafkaRecord) -> None` that records what it accepted.

    `down` makes every call raise; `failures_left` makes the next calls raise;
    `fail_when` makes calls for chosen records raise.
    """

    down: bool = False
    failures_left: int = 0
    fail_when: Callable[[str, KafkaRecord], bool] | None = None
    error: Callable[[], BaseException] = lambda: ConnectionError("Kafka is down")
    sent: list[tuple[str, KafkaRecord]] = field(default_factory=list)
    attempts: int = 0

    async def __call__(self, topic: str, record: KafkaRecord) -> None:
        self.attempts += 1
        if self.down:
            raise self.error()
        if self.failures_left > 0:
            self.failures_left -= 1
            raise self.error()
        if self.fail_when is not None and self.fail_when(topic, record):
            raise self.error()
        self.sent.append((topic, record))


def envelope(
    event_type: str = "lobu.test.thing.happened.v1",
    data: dict[str, Any] | None = None,
    **attributes: Any,
) -> Envelope:
    """An envelope with sensible test values."""
    defaults: dict[str, Any] = {"source": "/lobu/test", "subject": "thing-1"}
    defaults.update(attributes)
    return Envelope(
        type=event_type, data=data if data is not None else {"name": "Jörg"}, **defaults
    )


def received(
    record: KafkaRecord, *, topic: str = "directory.alliance", offset: int = 7
) -> ReceivedRecord:
    """`record` as a consumer receives it off `topic`."""
    return ReceivedRecord(
        topic=topic,
        partition=0,
        offset=offset,
        headers=tuple(record.headers.items()),
        key=record.key,
        value=record.value,
    )


def received_envelope(event: Envelope, **kwargs: Any) -> ReceivedRecord:
    """`event` encoded as a binary-mode record, as a consumer receives it."""
    return received(to_kafka_record(event), **kwargs)
