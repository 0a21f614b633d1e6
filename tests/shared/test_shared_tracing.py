"""Trace context in the outbox and the CloudEvent: stored at write time, always published."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.contracts.directory import ALLIANCE_DELETED, AllianceDeleted
from lobu.shared.database import transaction
from lobu.shared.envelope import from_kafka_record
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage, add_event
from lobu.shared.relay import OutboxRelay
from lobu.shared.tracing import configure_tracing, current_traceparent, tracer
from tests.shared.shared_fakes import FakeKafka

pytestmark = pytest.mark.unit
run = pytest.mark.asyncio(loop_scope="session")

NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


async def write(sessions: async_sessionmaker[AsyncSession], subject: str) -> None:
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_DELETED, source="/lobu/directory", subject=subject,
            data=AllianceDeleted(id=subject, version=2, deleted_at=NOW),
        )  # fmt: skip


@run
async def test_the_outbox_keeps_the_writers_trace_and_the_relay_publishes_it(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    with tracer().start_as_current_span("a request"):
        expected = current_traceparent()
        await write(sessions, "a-1")
    assert expected is not None
    async with sessions() as session:
        (row,) = (await session.scalars(select(OutboxMessage))).all()
    assert row.traceparent == expected

    kafka = FakeKafka()
    await OutboxRelay(sessions, kafka, metrics=metrics).publish_round()

    (_topic, record) = kafka.sent[0]
    assert record.headers["ce_traceparent"] == expected.encode()
    assert from_kafka_record(record.headers, record.key, record.value).traceparent == expected


@run
async def test_a_row_written_outside_a_trace_is_published_with_one(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    await write(sessions, "a-2")
    kafka = FakeKafka()
    await OutboxRelay(sessions, kafka, metrics=metrics).publish_round()

    (_topic, record) = kafka.sent[0]
    version, trace_id, span_id, _flags = record.headers["ce_traceparent"].decode().split("-")
    assert version == "00"
    assert int(trace_id, 16) != 0
    assert int(span_id, 16) != 0


def test_spans_are_exported_only_when_an_endpoint_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)

    def exporters() -> list[str]:
        processors = configure_tracing("test")._active_span_processor._span_processors
        return [type(getattr(p, "_exporter", None)).__name__ for p in processors]

    assert "OTLPSpanExporter" not in exporters()
