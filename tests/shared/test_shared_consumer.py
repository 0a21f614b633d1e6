"""ReliableConsumer: effectively-once effects, bounded retries, dead letters that always arrive."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.consumer import (
    EventHandler,
    Outcome,
    PoisonMessageError,
    ReceivedRecord,
    ReliableConsumer,
    subscribe,
)
from lobu.shared.contracts import read_event_data
from lobu.shared.contracts.directory import AllianceDeleted
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record
from lobu.shared.inbox import InboxMessage
from lobu.shared.logs import correlation_id_var, event_id_var
from lobu.shared.metrics import ServiceMetrics
from tests.shared.shared_fakes import (
    FakeKafka,
    effect_count,
    envelope,
    received,
    received_envelope,
    record_effect,
)

pytestmark = pytest.mark.unit

EVENT_TYPE = "lobu.test.thing.happened.v1"
CONSUMER = "shared-test-consumer"


def sqlite_busy_error(folder: Path) -> sqlite3.OperationalError:
    """The error SQLite really raises while another connection holds the write lock."""
    path = folder / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("SELECT * FROM t")
    except sqlite3.OperationalError as error:
        return error
    finally:
        other.close()
        holder.close()
    raise AssertionError("SQLite did not refuse the second connection")


def consumer_for(
    sessions: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
    handler: EventHandler,
    *,
    kafka: FakeKafka | None = None,
    max_attempts: int = 3,
) -> ReliableConsumer:
    return ReliableConsumer(
        name=CONSUMER,
        sessions=sessions,
        handlers={EVENT_TYPE: handler},
        publish=kafka if kafka is not None else FakeKafka(),
        metrics=metrics,
        max_attempts=max_attempts,
        retry_backoff_seconds=0,
    )


class CountingHandler:
    """Records its effect, after failing its first `failures` calls with `error`."""

    def __init__(
        self,
        *,
        failures: int = 0,
        error: Callable[[], BaseException] = lambda: RuntimeError("boom"),
    ) -> None:
        self.calls = 0
        self.failures = failures
        self.error = error
        self.seen: list[tuple[str | None, str | None]] = []

    async def __call__(self, session: AsyncSession, event: Envelope) -> None:
        self.calls += 1
        self.seen.append((correlation_id_var.get(), event_id_var.get()))
        await record_effect(session, event.id, note=f"call {self.calls}")
        await session.flush()  # the effect is written before the failure: it must roll back
        if self.calls <= self.failures:
            raise self.error()


async def inbox_entries(sessions: async_sessionmaker[AsyncSession], event_id: str) -> list[str]:
    async with sessions() as session:
        result = await session.scalars(
            select(InboxMessage.consumer).where(InboxMessage.event_id == event_id)
        )
        return list(result.all())


def consumed(metrics: ServiceMetrics, outcome: Outcome) -> float:
    labels = {
        "service": "shared-test",
        "consumer": CONSUMER,
        "topic": "directory.alliance",
        "outcome": outcome.value,
    }
    return metrics.registry.get_sample_value("lobu_messages_consumed_total", labels) or 0.0


@pytest.mark.asyncio(loop_scope="session")
async def test_a_valid_event_is_handled_once_with_its_effect_and_inbox_entry(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    event = envelope(EVENT_TYPE)

    outcome = await consumer_for(sessions, metrics, handler).handle(received_envelope(event))

    assert outcome is Outcome.HANDLED
    assert handler.calls == 1
    assert await effect_count(sessions, event.id) == 1
    assert await inbox_entries(sessions, event.id) == [CONSUMER]
    assert consumed(metrics, Outcome.HANDLED) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_duplicate_event_is_handled_once(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    consumer = consumer_for(sessions, metrics, handler)
    event = envelope(EVENT_TYPE)

    first = await consumer.handle(received_envelope(event, offset=1))
    second = await consumer.handle(received_envelope(event, offset=2))

    assert (first, second) == (Outcome.HANDLED, Outcome.DUPLICATE)
    assert handler.calls == 1
    assert await effect_count(sessions, event.id) == 1
    assert consumed(metrics, Outcome.DUPLICATE) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_the_handler_runs_with_the_events_correlation_and_event_id(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    event = envelope(EVENT_TYPE, correlation_id="corr-42")

    await consumer_for(sessions, metrics, handler).handle(received_envelope(event))

    assert handler.seen == [("corr-42", event.id)]
    assert correlation_id_var.get() is None
    assert event_id_var.get() is None


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        ({"ce_id": b"e-1"}, b"not json at all"),
        ({}, b'{"a": 1}'),
        (dict(to_kafka_record(envelope(EVENT_TYPE)).headers), b"[1, 2]"),
        (dict(to_kafka_record(envelope(EVENT_TYPE)).headers), None),
    ],
    ids=["not-json", "no-ce-headers", "array-data", "tombstone"],
)
@pytest.mark.asyncio(loop_scope="session")
async def test_a_malformed_record_is_dead_lettered_unchanged(
    sessions: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
    headers: dict[str, bytes],
    value: bytes | None,
) -> None:
    handler = CountingHandler()
    kafka = FakeKafka()
    record = ReceivedRecord(
        topic="directory.alliance",
        partition=0,
        offset=99,
        headers=tuple(headers.items()),
        key=b"a-1",
        value=value,
    )

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka).handle(record)

    assert outcome is Outcome.DEAD_LETTERED
    assert handler.calls == 0
    [(topic, letter)] = kafka.sent
    assert topic == "directory.alliance.dlq"
    assert letter.headers["lobu-dlq-reason"] == b"malformed"
    assert letter.headers["lobu-dlq-consumer"] == CONSUMER.encode()
    assert letter.headers["lobu-dlq-original-topic"] == b"directory.alliance"
    assert letter.headers["lobu-dlq-original-offset"] == b"99"
    assert letter.key == b"a-1"
    assert letter.value == (value if value is not None else b"")
    for name, raw in headers.items():
        assert letter.headers[name] == raw
    assert consumed(metrics, Outcome.DEAD_LETTERED) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_an_event_whose_data_breaks_the_contract_is_dead_lettered_at_once(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    calls = 0

    async def reads_a_contract(session: AsyncSession, event: Envelope) -> None:
        nonlocal calls
        calls += 1
        read_event_data(AllianceDeleted, event.data)

    kafka = FakeKafka()
    event = envelope(EVENT_TYPE, data={"id": "a-1"})

    outcome = await consumer_for(
        sessions, metrics, reads_a_contract, kafka=kafka, max_attempts=5
    ).handle(received_envelope(event))

    assert outcome is Outcome.DEAD_LETTERED
    assert calls == 1
    [(topic, letter)] = kafka.sent
    assert topic == "directory.alliance.dlq"
    assert letter.headers["lobu-dlq-reason"] == b"invalid"
    assert b"version" in letter.headers["lobu-dlq-error"]
    assert await inbox_entries(sessions, event.id) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_a_poison_message_is_dead_lettered_at_once_and_its_effect_rolled_back(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler(failures=99, error=lambda: PoisonMessageError("never handleable"))
    kafka = FakeKafka()
    event = envelope(EVENT_TYPE)

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka, max_attempts=5).handle(
        received_envelope(event)
    )

    assert outcome is Outcome.DEAD_LETTERED
    assert handler.calls == 1
    [(_, letter)] = kafka.sent
    assert letter.headers["lobu-dlq-reason"] == b"invalid"
    assert letter.headers["lobu-dlq-error"] == b"PoisonMessageError: never handleable"
    assert await effect_count(sessions, event.id) == 0
    assert await inbox_entries(sessions, event.id) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_a_handler_failing_twice_then_succeeding_is_handled_with_one_effect(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler(failures=2)
    kafka = FakeKafka()
    event = envelope(EVENT_TYPE)

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka, max_attempts=3).handle(
        received_envelope(event)
    )

    assert outcome is Outcome.HANDLED
    assert handler.calls == 3
    assert await effect_count(sessions, event.id) == 1
    assert kafka.sent == []


@pytest.mark.asyncio(loop_scope="session")
async def test_a_handler_always_failing_is_dead_lettered_after_max_attempts_without_effect(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler(failures=99)
    kafka = FakeKafka()
    event = envelope(EVENT_TYPE)
    record = received_envelope(event)

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka, max_attempts=4).handle(
        record
    )

    assert outcome is Outcome.DEAD_LETTERED
    assert handler.calls == 4
    [(topic, letter)] = kafka.sent
    assert topic == "directory.alliance.dlq"
    assert letter.headers["lobu-dlq-reason"] == b"failed"
    # The class, not the text: an exception's text may hold the values it failed on.
    assert letter.headers["lobu-dlq-error"] == b"RuntimeError"
    assert letter.value == record.value
    assert await effect_count(sessions, event.id) == 0
    assert await inbox_entries(sessions, event.id) == []

    replayed = await consumer_for(sessions, metrics, CountingHandler()).handle(record)

    assert replayed is Outcome.HANDLED
    assert await effect_count(sessions, event.id) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_database_outage_does_not_use_up_the_attempts(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics, tmp_path: Path
) -> None:
    outage = OperationalError("INSERT ...", {}, sqlite_busy_error(tmp_path))
    handler = CountingHandler(failures=3, error=lambda: outage)
    kafka = FakeKafka()
    event = envelope(EVENT_TYPE)

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka, max_attempts=1).handle(
        received_envelope(event)
    )

    assert outcome is Outcome.HANDLED
    assert handler.calls == 4
    assert kafka.sent == []
    assert await effect_count(sessions, event.id) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unknown_event_type_is_ignored(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    kafka = FakeKafka()
    event = envelope("lobu.test.other-thing.happened.v1")

    outcome = await consumer_for(sessions, metrics, handler, kafka=kafka).handle(
        received_envelope(event)
    )

    assert outcome is Outcome.IGNORED
    assert handler.calls == 0
    assert kafka.attempts == 0
    assert await inbox_entries(sessions, event.id) == []
    assert consumed(metrics, Outcome.IGNORED) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_while_the_dead_letter_topic_is_unreachable_the_consumer_keeps_trying(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    kafka = FakeKafka(failures_left=3)
    record = received(KafkaRecord(headers={}, key=b"a-1", value=b"garbage"))

    outcome = await consumer_for(sessions, metrics, CountingHandler(), kafka=kafka).handle(record)

    assert outcome is Outcome.DEAD_LETTERED
    assert kafka.attempts == 4
    [(topic, letter)] = kafka.sent
    assert topic == "directory.alliance.dlq"
    assert letter.value == b"garbage"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_redelivered_record_without_ce_id_does_not_take_effect_twice(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    consumer = consumer_for(sessions, metrics, handler)
    record = to_kafka_record(envelope(EVENT_TYPE))
    without_id = KafkaRecord(
        headers={name: raw for name, raw in record.headers.items() if name != "ce_id"},
        key=record.key,
        value=record.value,
    )

    await consumer.handle(received(without_id, offset=1))
    await consumer.handle(received(without_id, offset=1))

    assert handler.calls <= 1


# --- subscribe: FastStream's in-memory broker delivers raw records to the consumer --------


async def deliver(
    consumer: ReliableConsumer, *records: KafkaRecord, topic: str = "directory.alliance"
) -> None:
    broker = KafkaBroker()
    subscribe(broker, consumer, [topic])
    async with TestKafkaBroker(broker) as test_broker:
        for record in records:
            # As KafkaConnection.publish sends them: header values as text.
            await test_broker.publish(
                record.value,
                topic,
                key=record.key,
                headers={name: raw.decode() for name, raw in record.headers.items()},
            )


@pytest.mark.asyncio(loop_scope="session")
async def test_a_record_published_to_a_subscribed_topic_reaches_the_handler_once(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    handler = CountingHandler()
    consumer = consumer_for(sessions, metrics, handler)
    event = envelope(EVENT_TYPE, data={"city": "Lübeck"}, correlation_id="corr-7")
    record = to_kafka_record(event)

    await deliver(consumer, record, record)

    assert handler.calls == 1
    assert handler.seen == [("corr-7", event.id)]
    assert await effect_count(sessions, event.id) == 1
    assert consumed(metrics, Outcome.HANDLED) == 1
    assert consumed(metrics, Outcome.DUPLICATE) == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_malformed_record_on_a_subscribed_topic_reaches_the_dead_letter_topic(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    kafka = FakeKafka()
    handler = CountingHandler()
    consumer = consumer_for(sessions, metrics, handler, kafka=kafka)

    await deliver(consumer, KafkaRecord(headers={}, key=b"a-9", value=b"<xml/>"))

    assert handler.calls == 0
    [(topic, letter)] = kafka.sent
    assert topic == "directory.alliance.dlq"
    assert letter.headers["lobu-dlq-reason"] == b"malformed"
    assert (letter.key, letter.value) == (b"a-9", b"<xml/>")
