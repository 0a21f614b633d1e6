"""The welcome join under concurrency on PostgreSQL (issue 6, defect 1).

`created` and `contacts.changed` are published together; on two notifications
instances they can be handled at the same moment. Under READ COMMITTED neither
transaction sees the other's uncommitted row, so without a lock neither schedules the
welcome. These tests run the real handlers in real concurrent transactions: first
interleaved by hand (one transaction held open after its writes while the other runs),
then through two ReliableConsumer instances in one group on the real broker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.inbox  # registers the inbox table with SQLModel.metadata
import lobu.shared.outbox  # registers the outbox table with SQLModel.metadata
from lobu.notifications.consumers import alliance_handlers
from lobu.notifications.models import Delivery
from lobu.shared import Envelope
from lobu.shared.consumer import ReliableConsumer, subscribe
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    AllianceContactsChanged,
    AllianceCreated,
    ContactPerson,
)
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import KafkaRecord, to_kafka_record
from lobu.shared.metrics import ServiceMetrics
from tests.notifications.conftest import SettingsFactory, reactions_for
from tests.support.kafka_server import KafkaServer
from tests.support.postgres_server import PostgresServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
SOURCE = "/lobu/directory"
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GRETE = ContactPerson(name="Grete Müller", email="grete.mueller@example.org")
JOSEF = ContactPerson(name="Josef Öztürk", email="josef.oeztuerk@example.org")


@pytest.fixture
def database_url(postgres: PostgresServer) -> Iterator[str]:
    with postgres.database("notifrace") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield engine
    await engine.dispose()


def created(alliance_id: str) -> Envelope:
    data = AllianceCreated(
        id=alliance_id,
        slug=f"buendnis-{alliance_id[:8]}",
        name=f"Bündnis für Familie {alliance_id[:8]}",
        state="NI",
        postal_code="21335",
        city="Lüneburg",
        version=1,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    return Envelope(
        type=ALLIANCE_CREATED, source=SOURCE, subject=alliance_id, data=data.model_dump(mode="json")
    )


def contacts(alliance_id: str, people: list[ContactPerson]) -> Envelope:
    data = AllianceContactsChanged(alliance_id=alliance_id, version=1, contacts=people)
    return Envelope(
        type=ALLIANCE_CONTACTS_CHANGED,
        source=SOURCE,
        subject=alliance_id,
        data=data.model_dump(mode="json"),
    )


async def welcomes(sessions: Sessions) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(col(Delivery.alliance_id), col(Delivery.recipient)).where(
                col(Delivery.template) == "welcome"
            )
        )
        return sorted((str(a), str(r)) for a, r in rows.all())


async def waiting_for_a_lock(engine: AsyncEngine) -> bool:
    """True when some other connection of this database waits for a lock."""
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("held", ["created", "contacts"])
async def test_two_handlers_at_once_still_schedule_the_welcome(
    engine: AsyncEngine, held: str, notification_settings: SettingsFactory
) -> None:
    """One handler's transaction stays open after its writes while the other runs."""
    sessions = create_session_factory(engine)
    handlers = alliance_handlers(reactions_for(notification_settings()))
    alliance_id = str(uuid.uuid4())
    first, second = (created(alliance_id), contacts(alliance_id, [GRETE, JOSEF]))
    if held == "contacts":
        first, second = second, first

    async def run_second() -> None:
        async with sessions() as session, session.begin():
            await handlers[second.type](session, second)

    async with sessions() as held_open:
        async with held_open.begin():
            await handlers[first.type](held_open, first)
            await held_open.flush()
            other = asyncio.create_task(run_second())
            # Deterministic interleaving: the second handler has either finished (no
            # lock: it saw nothing of ours) or is waiting for our lock; then we commit.
            await eventually(
                lambda: other.done() or waiting_for_a_lock(engine),
                timeout=60,
                interval=0.05,
                what="the second handler to finish or wait for the lock",
            )
        await other

    assert await welcomes(sessions) == sorted(
        [(alliance_id, GRETE.email), (alliance_id, JOSEF.email)]
    )


# --- two consumers in one group on the real broker --------------------------------------


async def create_topics(bootstrap_servers: str, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name, num_partitions=1, replication_factor=1) for name in names]
        )
    finally:
        await admin.close()


def consumer_broker(
    bootstrap_servers: str,
    sessions: Sessions,
    *,
    group: str,
    topics: list[str],
    settings: SettingsFactory,
) -> tuple[KafkaBroker, ReliableConsumer]:
    """One notifications instance: a broker of its own with the alliance handlers."""
    broker = KafkaBroker(bootstrap_servers)

    async def no_dead_letters(topic: str, record: KafkaRecord) -> None:
        raise AssertionError(f"nothing should be dead-lettered, got one for {topic}")

    consumer = ReliableConsumer(
        name=group,
        sessions=sessions,
        handlers=alliance_handlers(reactions_for(settings())),
        publish=no_dead_letters,
        metrics=ServiceMetrics(service="notifications"),
        retry_backoff_seconds=0.05,
    )
    subscribe(broker, consumer, topics)
    return broker, consumer


def assigned_topics(broker: KafkaBroker) -> set[str]:
    """The topics whose partitions this instance holds now."""
    held: set[str] = set()
    for subscriber in broker.subscribers:
        client = getattr(subscriber, "consumer", None)
        if client is not None:
            held |= {partition.topic for partition in client.assignment()}
    return held


@pytest.mark.asyncio(loop_scope="session")
async def test_two_consumers_in_one_group_schedule_every_welcome_exactly_once(
    kafka: KafkaServer,
    database_url: str,
    engine: AsyncEngine,
    notification_settings: SettingsFactory,
) -> None:
    prefix = f"race-{uuid.uuid4().hex[:8]}"
    alliance_topic, contacts_topic = f"{prefix}.alliance", f"{prefix}.alliance-contacts"
    await create_topics(kafka.bootstrap_servers, alliance_topic, contacts_topic)
    group = f"{prefix}-notifications"
    # Two instances, each with its own connection pool, as two processes would have. Each
    # topic of a group has subscribers of its own (lobu.shared.consumer.subscribe), so
    # which instance holds which topic is up to the group's assignment; here the first
    # instance's subscriber holds the alliance topic and the second's the contacts
    # topic, the case in which the two facts of one alliance meet in two processes.
    engines = [create_engine(database_url) for _ in range(2)]
    instances = [
        consumer_broker(
            kafka.bootstrap_servers,
            create_session_factory(each),
            group=group,
            topics=[topic],
            settings=notification_settings,
        )
        for each, topic in zip(engines, (alliance_topic, contacts_topic), strict=True)
    ]
    for broker, _ in instances:
        await broker.start()
    try:
        await eventually(
            lambda: (
                assigned_topics(instances[0][0]) == {alliance_topic}
                and assigned_topics(instances[1][0]) == {contacts_topic}
            ),
            timeout=60,
            what="each instance to hold its topic",
        )
        sessions = create_session_factory(engine)

        async def handled(expected: int) -> bool:
            async with sessions() as session:
                count = await session.scalar(
                    select(func.count()).select_from(lobu.shared.inbox.InboxMessage)
                )
            return count == expected

        # Both events of an alliance are published at the same moment, and the next
        # alliance only once both are handled: the two members handle each pair at once.
        alliances = [str(uuid.uuid4()) for _ in range(60)]
        producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
        await producer.start()
        try:
            for number, alliance_id in enumerate(alliances, start=1):
                for topic, event in (
                    (alliance_topic, created(alliance_id)),
                    (contacts_topic, contacts(alliance_id, [GRETE])),
                ):
                    record = to_kafka_record(event)
                    await producer.send(
                        topic, record.value, key=record.key, headers=list(record.headers.items())
                    )
                await producer.flush()
                await eventually(
                    lambda n=number: handled(2 * n),  # type: ignore[misc]
                    timeout=60,
                    interval=0.01,
                    what=f"both events of alliance {number} to be handled",
                )
        finally:
            await producer.stop()
    finally:
        for broker, _ in instances:
            await broker.stop()
        for each in engines:
            await each.dispose()

    assert await welcomes(sessions) == sorted((a, GRETE.email) for a in alliances)
