"""Reliable Kafka consumers: explicit acknowledgement, inbox, bounded retries, dead letters.

FastStream's default acknowledgement is at-most-once (auto-commit), and its other
policies either lose a failing message or redeliver it forever. So every lobu
subscriber acknowledges by hand (AckPolicy.MANUAL) and commits a record's offset
(in the background, `offset_commits.py`) only after one of these is durable:

- its effect, together with its inbox entry, in the service's database;
- its copy on the dead-letter topic (malformed, or failing after bounded retries).

While the database or Kafka is unreachable, the consumer waits and retries instead
of dead-lettering: an outage is not the message's fault (`database_errors.is_outage`
decides by what the drivers raise). Errors reach logs and dead-letter headers only as
`safe_errors.describe_error` tells them: without the values they failed on.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.contracts.registry import EVENT_DEFINITIONS
from lobu.shared.database_errors import is_outage
from lobu.shared.dead_letter import dead_letter_record
from lobu.shared.envelope import Envelope, EnvelopeError, from_kafka_record
from lobu.shared.inbox import claim_event
from lobu.shared.logs import correlation_id_var, event_id_var
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.offset_commits import OffsetCommits
from lobu.shared.relay import PublishRecord
from lobu.shared.safe_errors import describe_error, redacted_exc_info
from lobu.shared.topics import dead_letter_topic
from lobu.shared.tracing import context_of, tracer

logger = logging.getLogger(__name__)

# Applies one event's effect inside the transaction it is given.
EventHandler = Callable[[AsyncSession, Envelope], Awaitable[None]]

# When the event being handled happened (its CloudEvents `time`), for code deep inside a
# handler that must tell an old fact from a new one: an address erased after the fact
# was published must not come back when the fact is read again (lobu.shared.privacy).
current_event_time: ContextVar[datetime | None] = ContextVar("event_time", default=None)


class PoisonMessageError(Exception):
    """A handler's verdict: this event can never be handled; dead-letter it at once.

    Its message goes into logs and the `lobu-dlq-error` header as written: say what
    is wrong (a field, a version), never the personal data involved.
    """


class Outcome(StrEnum):
    """What became of one record."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    DEAD_LETTERED = "dead_lettered"


@dataclass(frozen=True)
class ReceivedRecord:
    """A record as it came off Kafka, before decoding."""

    topic: str
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes]]
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None = None  # Kafka's record timestamp


class ReliableConsumer:
    """Handles records of some topics for one consumer group, effectively once."""

    def __init__(
        self,
        *,
        name: str,
        sessions: async_sessionmaker[AsyncSession],
        handlers: dict[str, EventHandler],
        publish: PublishRecord,
        metrics: ServiceMetrics,
        max_attempts: int = 5,
        retry_backoff_seconds: float = 0.2,
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._handlers = handlers
        self._publish = publish
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_seconds

    def expect_topics(self, topics: Sequence[str]) -> None:
        """Create this group's dead-letter series of `topics` at 0 (see metrics.py)."""
        self._metrics.expect_consumer(self.name, topics)

    async def handle(self, record: ReceivedRecord) -> Outcome:
        """Handle one record; on return it may be acknowledged."""
        outcome, event_type = await self._handle(record)
        metrics, service = self._metrics, self._metrics.service
        metrics.messages_consumed.labels(service, self.name, record.topic, outcome.value).inc()
        # Only the registry's types become label values: a record's type is the sender's text.
        label = event_type if event_type in EVENT_DEFINITIONS else "unknown"
        metrics.events_consumed.labels(service, self.name, record.topic, label, outcome.value).inc()
        now = time.time()
        metrics.consumer_last_handled.labels(service, self.name, record.topic).set(now)
        if record.timestamp_ms is not None and record.timestamp_ms > 0:
            age = max(now - record.timestamp_ms / 1000, 0.0)
            metrics.consumer_record_age.labels(service, self.name, record.topic).set(age)
        return outcome

    async def _handle(self, record: ReceivedRecord) -> tuple[Outcome, str]:
        try:
            envelope = from_kafka_record(record.headers, record.key, record.value)
        except EnvelopeError as error:
            await self._dead_letter(record, reason="malformed", error=describe_error(error))
            return Outcome.DEAD_LETTERED, "unknown"
        handler = self._handlers.get(envelope.type)
        if handler is None:
            logger.info("ignoring event type %s on %s", envelope.type, record.topic)
            return Outcome.IGNORED, envelope.type
        correlation_token = correlation_id_var.set(envelope.correlation_id)
        event_token = event_id_var.set(envelope.id)
        time_token = current_event_time.set(envelope.time)
        span = tracer().start_as_current_span(
            f"process {record.topic}",
            context=context_of(envelope.traceparent),  # the trace of the write that caused it
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.offset": record.offset,
                "messaging.consumer.group.name": self.name,
                "messaging.message.id": envelope.id,
                "cloudevents.event_type": envelope.type,
            },
        )
        try:
            with span as current:
                outcome = await self._apply_with_retries(record, envelope, handler)
                current.set_attribute("lobu.outcome", outcome.value)
            # The line that ties the event (and its correlation id) to what became of it.
            logger.info("%s %s from %s", outcome.value, envelope.type, record.topic)
            return outcome, envelope.type
        finally:
            correlation_id_var.reset(correlation_token)
            event_id_var.reset(event_token)
            current_event_time.reset(time_token)

    async def _apply_with_retries(
        self, record: ReceivedRecord, envelope: Envelope, handler: EventHandler
    ) -> Outcome:
        attempt = 0
        outage_wait = self._backoff
        while True:
            attempt += 1
            try:
                return await self._apply_once(envelope, handler)
            except (ValidationError, PoisonMessageError) as error:
                await self._dead_letter(record, reason="invalid", error=describe_error(error))
                return Outcome.DEAD_LETTERED
            except Exception as error:
                description = describe_error(error)
                if is_outage(error):
                    attempt -= 1  # an outage does not use up the message's attempts
                    logger.warning("database unreachable (%s); retrying", description)
                    await asyncio.sleep(outage_wait)
                    outage_wait = min(outage_wait * 2, 10.0)
                    continue
                if attempt >= self._max_attempts:
                    logger.error(
                        "giving up on event after %d attempts",
                        attempt,
                        exc_info=redacted_exc_info(error),
                    )
                    await self._dead_letter(record, reason="failed", error=description)
                    return Outcome.DEAD_LETTERED
                logger.warning("attempt %d failed (%s); retrying", attempt, description)
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))

    async def _apply_once(self, envelope: Envelope, handler: EventHandler) -> Outcome:
        async with self._sessions() as session, session.begin():
            claimed = await claim_event(
                session, consumer=self.name, event_id=envelope.id, event_type=envelope.type
            )
            if not claimed:
                return Outcome.DUPLICATE
            await handler(session, envelope)
        return Outcome.HANDLED

    async def _dead_letter(self, record: ReceivedRecord, *, reason: str, error: str) -> None:
        """Put the record on `<topic>.dlq`; keep trying while Kafka is away."""
        letter = dead_letter_record(
            headers=record.headers,
            key=record.key,
            value=record.value,
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
            error=error,
        )
        logger.error(
            "dead-lettering %s[%d]@%d (%s): %s",
            record.topic, record.partition, record.offset, reason, error,
        )  # fmt: skip
        wait = self._backoff
        while True:
            try:
                await self._publish(dead_letter_topic(record.topic), letter)
                self._metrics.dead_letters.labels(
                    self._metrics.service, self.name, record.topic, reason
                ).inc()
                return
            except Exception as publish_error:
                logger.warning(
                    "cannot dead-letter yet (%s); retrying", describe_error(publish_error)
                )
                await asyncio.sleep(wait)
                wait = min(wait * 2, 10.0)


async def _parse_keeping_header_bytes(
    record: Any, parse: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    # FastStream's parser decodes every header value as strict UTF-8: a record with
    # other bytes in a header (or a null one) would fail there, be logged, and be
    # skipped by the next record's commit, without a dead letter. FastStream reads
    # its own headers as text; lobu reads `raw_message`, with the bytes as they came.
    readable = copy.copy(record)
    readable.headers = [
        (name, raw.decode("utf-8", "replace").encode() if raw is not None else b"")
        for name, raw in record.headers or ()
    ]
    message = await parse(readable)
    message.raw_message = record
    return message


async def _keep_raw_body(message: StreamMessage[object]) -> bytes:
    # The consumer decodes and validates the CloudEvent itself, so that a record that
    # is not JSON reaches it (and the dead-letter topic) instead of failing in FastStream.
    return message.body


def subscribe(
    broker: KafkaBroker,
    consumer: ReliableConsumer,
    topics: Sequence[str],
    *,
    workers_per_topic: int = 1,
) -> OffsetCommits:
    """Register `consumer` on `broker` for `topics`, acknowledging by hand.

    Each topic gets subscribers of its own, `workers_per_topic` Kafka consumers in the
    group (FastStream's partition-wise concurrency): topics, and the partitions of one
    topic, are handled side by side, each partition in its order. Handlers must
    therefore be safe to run concurrently, as they must be anyway with several
    replicas (a join of two topics takes a lock, see notifications).

    A record's offset is committed after `consumer.handle` returns (its effect or dead
    letter is durable then), in the background by the returned `OffsetCommits`; close
    it before the broker stops to commit the last ones.
    """
    consumer.expect_topics(topics)
    commits = OffsetCommits()

    async def on_record(message: KafkaMessage) -> None:
        raw = message.raw_message
        if isinstance(raw, tuple):  # only batch subscribers receive tuples
            raise TypeError("lobu consumers handle one record at a time, not batches")
        record = ReceivedRecord(
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            headers=tuple(raw.headers or ()),
            key=raw.key,
            value=raw.value,
            timestamp_ms=raw.timestamp,
        )
        await consumer.handle(record)
        commits.handled(message.consumer, raw.topic, raw.partition, raw.offset)

    for topic in topics:
        broker.subscriber(
            topic,
            group_id=consumer.name,
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            max_workers=workers_per_topic,
            parser=_parse_keeping_header_bytes,
            decoder=_keep_raw_body,
            title=f"{consumer.name}:{topic}",
        )(on_record)
    return commits
