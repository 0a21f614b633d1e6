"""The outbox and its relay: events leave only after their transaction commits, in order, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.clock import as_utc
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    ContactPerson,
)
from lobu.shared.database import create_session_factory, transaction
from lobu.shared.envelope import from_kafka_record
from lobu.shared.logs import correlation_id_var
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage, add_event, wake_after_commit
from lobu.shared.relay import OutboxRelay
from tests.shared.shared_fakes import FakeKafka

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)
SOURCE = "/lobu/directory"


def created(alliance_id: str) -> AllianceCreated:
    return AllianceCreated(
        id=alliance_id,
        slug="buendnis-fuer-familie-wuerzburg",
        name="Bündnis für Familie Würzburg",
        state="BY",
        postal_code="97070",
        city="Würzburg",
        version=1,
        created_at=NOW,
        updated_at=NOW,
    )


def contacts(alliance_id: str) -> AllianceContactsChanged:
    return AllianceContactsChanged(
        alliance_id=alliance_id,
        version=1,
        contacts=[ContactPerson(name="Jörg Weiß", email="joerg@example.org")],
    )


def deleted(alliance_id: str) -> AllianceDeleted:
    return AllianceDeleted(id=alliance_id, version=2, deleted_at=NOW)


@pytest.fixture
def correlation() -> Iterator[str]:
    token = correlation_id_var.set("corr-outbox-1")
    yield "corr-outbox-1"
    correlation_id_var.reset(token)


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions() as session:
        result = await session.scalars(select(OutboxMessage).order_by(col(OutboxMessage.position)))
        return list(result.all())


async def write_three_events(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Three events in one transaction: created a-1, contacts of a-1, deleted a-2."""
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-1", data=created("a-1")
        )
        add_event(
            session,
            event_type=ALLIANCE_CONTACTS_CHANGED,
            source=SOURCE,
            subject="a-1",
            data=contacts("a-1"),
        )
        add_event(
            session, event_type=ALLIANCE_DELETED, source=SOURCE, subject="a-2", data=deleted("a-2")
        )


def relay_for(
    sessions: async_sessionmaker[AsyncSession], kafka: FakeKafka, metrics: ServiceMetrics
) -> OutboxRelay:
    return OutboxRelay(sessions, kafka, metrics=metrics, poll_seconds=0, batch_size=200)


# --- add_event ---------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_add_event_refuses_data_of_another_type(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(TypeError, match="AllianceDeleted"):
            add_event(
                session,
                event_type=ALLIANCE_DELETED,
                source=SOURCE,
                subject="a-1",
                data=created("a-1"),
            )


@pytest.mark.asyncio(loop_scope="session")
async def test_add_event_refuses_an_unknown_type(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(KeyError):
            add_event(
                session,
                event_type="lobu.x.y.z.v1",
                source=SOURCE,
                subject="a-1",
                data=created("a-1"),
            )


@pytest.mark.asyncio(loop_scope="session")
async def test_a_committed_event_is_a_row_with_topic_json_data_and_correlation_id(
    sessions: async_sessionmaker[AsyncSession], correlation: str
) -> None:
    async with transaction(sessions) as session:
        message = add_event(
            session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-1", data=created("a-1")
        )

    [row] = await rows(sessions)
    assert row.event_id == message.event_id
    assert row.topic == "directory.alliance"
    assert row.event_type == ALLIANCE_CREATED
    assert row.subject == "a-1"
    assert row.source == SOURCE
    assert row.data["city"] == "Würzburg"
    assert row.data["created_at"] == "2024-05-17T09:30:00Z"
    assert row.correlation_id == correlation
    assert row.published_at is None
    assert row.attempts == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_an_event_of_a_rolled_back_transaction_is_never_written(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def use_case_that_fails() -> None:
        async with transaction(sessions) as session:
            add_event(
                session,
                event_type=ALLIANCE_CREATED,
                source=SOURCE,
                subject="a-1",
                data=created("a-1"),
            )
            await session.flush()
            raise RuntimeError("use case failed")

    with pytest.raises(RuntimeError, match="use case failed"):
        await use_case_that_fails()

    assert await rows(sessions) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_positions_follow_the_order_events_were_added(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write_three_events(sessions)

    written = await rows(sessions)

    assert [row.event_type for row in written] == [
        ALLIANCE_CREATED,
        ALLIANCE_CONTACTS_CHANGED,
        ALLIANCE_DELETED,
    ]
    positions = [row.position for row in written]
    assert positions == sorted(positions)
    assert len(set(positions)) == 3


# --- the relay ---------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_the_relay_publishes_rows_in_order_with_topic_and_key_and_marks_them(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka()

    published = await relay_for(sessions, kafka, metrics).publish_pending()

    assert published == 3
    assert [(topic, record.key) for topic, record in kafka.sent] == [
        ("directory.alliance", b"a-1"),
        ("directory.alliance-contacts", b"a-1"),
        ("directory.alliance", b"a-2"),
    ]
    written = await rows(sessions)
    assert all(row.published_at is not None for row in written)
    assert [
        from_kafka_record(record.headers, record.key, record.value).id for _, record in kafka.sent
    ] == [row.event_id for row in written]
    sample = metrics.registry.get_sample_value(
        "lobu_messages_published_total", {"service": "shared-test", "topic": "directory.alliance"}
    )
    assert sample == 2


@pytest.mark.asyncio(loop_scope="session")
async def test_a_published_record_carries_the_row_as_a_cloudevent(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics, correlation: str
) -> None:
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-1", data=created("a-1")
        )
    kafka = FakeKafka()

    await relay_for(sessions, kafka, metrics).publish_pending()

    [row] = await rows(sessions)
    [(_, record)] = kafka.sent
    event = from_kafka_record(record.headers, record.key, record.value)
    assert event.id == row.event_id
    assert event.type == ALLIANCE_CREATED
    assert event.source == SOURCE
    assert event.subject == "a-1"
    assert event.data == row.data
    assert event.time == as_utc(row.occurred_at)
    assert event.correlation_id == correlation


@pytest.mark.asyncio(loop_scope="session")
async def test_once_published_a_row_keeps_no_personal_data_but_kafka_has_it_all(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    """Contacts (like survey links and participants) stay on their internal topic only."""
    await write_three_events(sessions)
    kafka = FakeKafka()

    await relay_for(sessions, kafka, metrics).publish_pending()

    created_row, contacts_row, deleted_row = await rows(sessions)
    assert contacts_row.published_at is not None
    assert contacts_row.data == {}
    assert "joerg@example.org" not in str(contacts_row.model_dump())
    assert created_row.data["name"] == "Bündnis für Familie Würzburg"  # public: kept
    assert deleted_row.data["version"] == 2
    [sent] = [record for topic, record in kafka.sent if topic == "directory.alliance-contacts"]
    event = from_kafka_record(sent.headers, sent.key, sent.value)
    assert event.data["contacts"][0]["email"] == "joerg@example.org"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_second_round_publishes_nothing_twice(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka()
    relay = relay_for(sessions, kafka, metrics)
    await relay.publish_pending()

    assert await relay.publish_pending() == 0
    assert len(kafka.sent) == 3
    assert kafka.attempts == 3


@pytest.mark.asyncio(loop_scope="session")
async def test_an_empty_outbox_publishes_nothing(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    kafka = FakeKafka()

    assert await relay_for(sessions, kafka, metrics).publish_pending() == 0
    assert kafka.attempts == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_while_kafka_is_down_rows_stay_unpublished_and_the_failure_is_recorded(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka(down=True)
    relay = relay_for(sessions, kafka, metrics)

    with pytest.raises(ConnectionError, match="Kafka is down"):
        await relay.publish_pending()

    first, second, third = await rows(sessions)
    assert (first.published_at, first.attempts) == (None, 1)
    assert first.last_error == "ConnectionError: Kafka is down"
    # a-1's second row waits behind its first and is not even sent; a-2 was tried too.
    assert (second.published_at, second.attempts, second.last_error) == (None, 0, None)
    assert (third.published_at, third.attempts) == (None, 1)
    assert kafka.sent == []
    assert kafka.attempts == 2


@pytest.mark.asyncio(loop_scope="session")
async def test_every_failed_round_counts_another_attempt(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    relay = relay_for(sessions, FakeKafka(down=True), metrics)

    for _ in range(3):
        with pytest.raises(ConnectionError):
            await relay.publish_pending()

    first, *_ = await rows(sessions)
    assert first.attempts == 3


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failure_holds_back_only_the_later_rows_of_its_own_key(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka(fail_when=lambda topic, _record: topic == "directory.alliance-contacts")

    with pytest.raises(ConnectionError):
        await relay_for(sessions, kafka, metrics).publish_pending()

    first, second, third = await rows(sessions)
    assert first.published_at is not None
    assert (second.published_at, second.attempts) == (None, 1)
    assert second.last_error == "ConnectionError: Kafka is down"
    assert third.published_at is not None  # a-2 is another key: it goes on


@pytest.mark.asyncio(loop_scope="session")
async def test_after_kafka_recovers_everything_goes_out_in_order(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka(down=True)
    relay = relay_for(sessions, kafka, metrics)
    with pytest.raises(ConnectionError):
        await relay.publish_pending()

    kafka.down = False
    assert await relay.publish_pending() == 3

    written = await rows(sessions)
    assert [
        from_kafka_record(record.headers, record.key, record.value).id for _, record in kafka.sent
    ] == [row.event_id for row in written]
    assert all(row.published_at is not None for row in written)
    assert written[0].attempts == 1
    assert written[0].last_error == "ConnectionError: Kafka is down"


@pytest.mark.asyncio(loop_scope="session")
async def test_events_committed_later_are_published_in_a_later_round(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    kafka = FakeKafka()
    relay = relay_for(sessions, kafka, metrics)
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-1", data=created("a-1")
        )
    await relay.publish_pending()
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_DELETED, source=SOURCE, subject="a-1", data=deleted("a-1")
        )

    assert await relay.publish_pending() == 1
    assert [record.headers["ce_type"] for _, record in kafka.sent] == [
        ALLIANCE_CREATED.encode(),
        ALLIANCE_DELETED.encode(),
    ]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_small_batch_size_publishes_the_oldest_rows_first(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write_three_events(sessions)
    kafka = FakeKafka()
    relay = OutboxRelay(sessions, kafka, metrics=metrics, batch_size=2)

    assert await relay.publish_pending() == 2
    assert await relay.publish_pending() == 1
    assert [record.key for _, record in kafka.sent] == [b"a-1", b"a-1", b"a-2"]


@pytest.mark.asyncio(loop_scope="session")
async def test_the_relay_is_woken_when_a_transaction_with_events_commits(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wakes: list[str] = []
    wake_after_commit(sessions, lambda: wakes.append("woken"))
    async with transaction(sessions) as session:
        session.add(OutboxMessage(
            event_id="unrelated", topic="t", event_type="x", source=SOURCE, subject="s",
            data={}, occurred_at=NOW,
        ))  # fmt: skip  # a row added by hand is not "queued by add_event"
    assert wakes == []
    async with transaction(sessions) as session:
        add_event(session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-1",
                  data=created("a-1"))  # fmt: skip
    assert wakes == ["woken"]

    async def failing_use_case() -> None:
        async with transaction(sessions) as session:
            add_event(session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-2",
                      data=created("a-2"))  # fmt: skip
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await failing_use_case()
    async with transaction(sessions) as session:
        pass  # a later commit without events in a session of the same factory
    assert wakes == ["woken"]
    other_factory = create_session_factory(sessions.kw["bind"])
    async with transaction(other_factory) as session:
        add_event(session, event_type=ALLIANCE_CREATED, source=SOURCE, subject="a-3",
                  data=created("a-3"))  # fmt: skip
    assert wakes == ["woken"]  # another factory's sessions are not this relay's
