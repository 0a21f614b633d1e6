"""The operator's metrics: events by type and outcome, dead letters by reason, pool use, labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lobu.shared.consumer import ReliableConsumer
from lobu.shared.contracts.directory import ALLIANCE_DELETED, AllianceDeleted
from lobu.shared.database import transaction
from lobu.shared.envelope import Envelope, KafkaRecord
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import add_event
from lobu.shared.relay import OutboxRelay
from tests.shared.shared_fakes import FakeKafka, received, received_envelope, record_effect

pytestmark = pytest.mark.unit
run = pytest.mark.asyncio(loop_scope="session")

GROUP = "metrics-test"
TOPIC = "directory.alliance"
NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


def value(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"service": "shared-test", **labels})


async def handle_deleted(session: AsyncSession, event: Envelope) -> None:
    await record_effect(session, event.id)


def consumer(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> ReliableConsumer:
    found = ReliableConsumer(
        name=GROUP,
        sessions=sessions,
        handlers={ALLIANCE_DELETED: handle_deleted},
        publish=FakeKafka(),
        metrics=metrics,
        retry_backoff_seconds=0,
    )
    found.expect_topics([TOPIC])
    return found


@run
async def test_consumed_events_count_by_type_and_outcome_and_dead_letters_by_reason(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    reader = consumer(sessions, metrics)
    # Before anything went wrong, the dead-letter series exist at 0 (an alert sees the first).
    assert (
        value(metrics, "lobu_dead_letters_total", group=GROUP, topic=TOPIC, reason="malformed") == 0
    )

    event = Envelope(
        type=ALLIANCE_DELETED, source="/lobu/directory", subject="a-1",
        data=AllianceDeleted(id="a-1", version=2, deleted_at=NOW).model_dump(mode="json"),
    )  # fmt: skip
    record = received_envelope(event)
    stamped = type(record)(**{**record.__dict__, "timestamp_ms": 1_000})
    await reader.handle(stamped)
    await reader.handle(stamped)
    await reader.handle(received(KafkaRecord(headers={}, key=b"k", value=b"not an event")))

    labels = {"group": GROUP, "topic": TOPIC}
    assert (
        value(
            metrics,
            "lobu_events_consumed_total",
            **labels,
            type=ALLIANCE_DELETED,
            outcome="handled",
        )
        == 1
    )
    assert (
        value(
            metrics,
            "lobu_events_consumed_total",
            **labels,
            type=ALLIANCE_DELETED,
            outcome="duplicate",
        )
        == 1
    )
    assert (
        value(
            metrics, "lobu_events_consumed_total", **labels, type="unknown", outcome="dead_lettered"
        )
        == 1
    )
    assert value(metrics, "lobu_dead_letters_total", **labels, reason="malformed") == 1
    assert value(metrics, "lobu_dead_letters_total", **labels, reason="failed") == 0
    assert (value(metrics, "lobu_consumer_last_handled_timestamp_seconds", **labels) or 0) > 0
    # The record's Kafka timestamp was 1 s after the epoch: it was decades old when handled.
    assert (value(metrics, "lobu_consumer_last_record_age_seconds", **labels) or 0) > 1e9


@run
async def test_a_type_outside_the_registry_is_counted_as_unknown(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    reader = consumer(sessions, metrics)
    strange = Envelope(type="x.jörg@example.org", source="/x", subject="s", data={})
    await reader.handle(received_envelope(strange))

    labels = {"group": GROUP, "topic": TOPIC, "type": "unknown", "outcome": "ignored"}
    assert value(metrics, "lobu_events_consumed_total", **labels) == 1


@run
async def test_published_events_count_by_type_and_outcome(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    async with transaction(sessions) as session:
        for alliance in ("a-1", "a-2"):
            add_event(
                session, event_type=ALLIANCE_DELETED, source="/lobu/directory", subject=alliance,
                data=AllianceDeleted(id=alliance, version=2, deleted_at=NOW),
            )  # fmt: skip
    kafka = FakeKafka(
        fail_when=lambda _topic, record: record.key == b"a-2", error=lambda: ValueError("too large")
    )
    relay = OutboxRelay(sessions, kafka, metrics=metrics, max_attempts=2)

    await relay.publish_round()
    await relay.publish_round()

    labels = {"topic": TOPIC, "type": ALLIANCE_DELETED}
    assert value(metrics, "lobu_events_published_total", **labels, outcome="published") == 1
    assert value(metrics, "lobu_events_published_total", **labels, outcome="refused") == 1
    assert value(metrics, "lobu_events_published_total", **labels, outcome="parked") == 1


@run
async def test_the_pool_collector_reports_connections_in_use(engine: AsyncEngine) -> None:
    metrics = ServiceMetrics(service="shared-test")
    metrics.watch_pool(engine.pool)

    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        assert value(metrics, "lobu_db_pool_connections", state="checked_out") == 1
    assert value(metrics, "lobu_db_pool_connections", state="checked_out") == 0
    assert (value(metrics, "lobu_db_pool_connections", state="idle") or 0) >= 1
    assert (value(metrics, "lobu_db_pool_size") or 0) >= 1


# Label names that may appear on lobu's series: none of them can hold a person's data.
ALLOWED_LABELS = {
    "service", "method", "route", "status", "topic", "type", "outcome", "group",
    "consumer", "partition", "reason", "state", "channel",
    "table",  # retention: the declared rule's table, a name from the code
    # FastStream's middleware and prometheus_client's own
    "app_name", "broker", "handler", "destination", "exception_type", "le", "quantile",
}  # fmt: skip


def test_no_metric_has_a_label_that_could_hold_personal_data() -> None:
    from lobu.notifications.main import create_app
    from lobu.notifications.settings import NotificationSettings
    from tests.support.tokens import TEST_AUTH

    app = create_app(
        NotificationSettings(database_url="sqlite+aiosqlite://", log_json=False, **TEST_AUTH)
    )
    registry = app.state.runtime.metrics.registry
    names = {
        label
        for family in registry.collect()
        for sample in family.samples
        for label in sample.labels
    }
    declared = set()
    for collector in list(registry._collector_to_names):
        declared |= set(getattr(collector, "_labelnames", ()))
    assert (names | declared) <= ALLOWED_LABELS, (names | declared) - ALLOWED_LABELS
    assert all(re.fullmatch(r"[a-z_]+", name) for name in names | declared)
