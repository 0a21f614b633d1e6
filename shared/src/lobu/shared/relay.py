"""The outbox relay: publishes committed outbox rows to Kafka in order, and marks them sent.

Runs as a task in the service process. Three rules keep one key's records in order
(the key is the row's subject, the entity id):

- **One key, one record in flight.** Within a round, rows of different keys are sent
  concurrently, but a key's next row is handed to the producer only after Kafka has
  acknowledged the one before it. A failure therefore can never leave a later record
  of that key in the producer's buffer while the earlier one is retried.
- **A round waits for every record it handed over.** Nothing is cancelled: each row is
  marked by its own outcome (acknowledged, or refused by Kafka and so not written).
  aiokafka's idempotent producer never expires a batch it has sent; it retries until
  the broker answers, so a refused record is one Kafka did not write.
- **One relay publishes at a time.** On PostgreSQL one replica holds the relay lease
  (`lobu.shared.relay_lease`: a session advisory lock on a dedicated connection); the
  others stand by and take over within a second or two when it dies. Each round also
  takes a transaction-level advisory lock (a fence): a new holder cannot start a round
  while the old holder's last round is still open. Rows are claimed `FOR UPDATE`, not
  `SKIP LOCKED`: skipping a row someone else holds would let the later rows of its key
  overtake it. SQLite runs one relay per database file.

A row Kafka refuses while the broker answers (a missing topic, an ACL, a record too
large) counts an attempt; after `max_attempts` it is *parked* (`parked_at`,
`last_error`), counted in `lobu_outbox_parked` and logged. Later rows of the same key
wait behind it (its order is kept), every other key goes on. `lobu outbox retry`
releases it. While Kafka does not answer, failures count no attempts: an outage is not
the row's fault, and the relay backs off (0.5 s doubling to 10 s) until a wake, a
reconnection or the back-off ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from opentelemetry.trace import SpanKind
from sqlalchemy import and_, func, not_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.clock import as_utc, utc_now
from lobu.shared.envelope import KafkaRecord, to_kafka_record
from lobu.shared.kafka import KafkaUnavailableError
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage
from lobu.shared.relay_lease import RelayLease
from lobu.shared.tracing import context_of, current_traceparent, tracer

logger = logging.getLogger(__name__)

# Publishes one record to a topic; raises when Kafka did not acknowledge it.
PublishRecord = Callable[[str, KafkaRecord], Awaitable[None]]
# True when Kafka answers a metadata request now (tells a refusal from an outage).
KafkaAnswers = Callable[[], Awaitable[bool]]

# pg_try_advisory_xact_lock key of "a relay round of this database" ("lobu" + 1): the
# fence between the last round of a lease holder and the first of the next.
RELAY_LOCK_KEY = 0x6C6F_6275_0001


@dataclass(frozen=True)
class RoundResult:
    """What one round did: rows published, and the first error if some row failed."""

    published: int
    error: BaseException | None = None
    outage: bool = False


class OutboxRelay:
    """Moves outbox rows to Kafka, oldest first, one record in flight per key."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishRecord,
        *,
        metrics: ServiceMetrics,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
        max_attempts: int = 10,
        kafka_answers: KafkaAnswers | None = None,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 10.0,
        lease: RelayLease | None = None,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._metrics = metrics
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._kafka_answers = kafka_answers
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_gauge_update = 0.0
        self._lease = lease or RelayLease(sessions.kw.get("bind"), metrics=metrics)

    def start(self) -> None:
        """Run the relay in the background."""
        self._lease.start(on_acquired=self.wake)
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    def wake(self) -> None:
        """Publish now: new rows have committed, or Kafka is reachable again.

        Ends a wait between rounds and an error back-off alike.
        """
        self._wake.set()

    @property
    def active(self) -> bool:
        """True while this replica is the one that publishes (always on SQLite)."""
        return self._lease.active

    async def stop(self) -> None:
        """Stop the relay (a round in flight rolls back; its rows go out again later).

        The lease is given up afterwards, so a standby replica takes over at once.
        """
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._lease.stop()

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                result = await self.publish_round()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is away: like an outage
                result = RoundResult(0, error, outage=True)
            await self._update_gauges(force=result.error is not None)
            if result.error is not None and (result.outage or not result.published):
                failures += 1
                delay = min(self._backoff * 2 ** min(failures - 1, 10), self._max_backoff)
                log = logger.warning if failures in (1, 10) or failures % 50 == 0 else logger.debug
                log(
                    "outbox relay cannot publish (%s); retry %d in %.1f s",
                    result.error, failures, delay,
                )  # fmt: skip
                await self._sleep_unless_woken(delay)
                continue
            failures = 0
            if result.published < self._batch_size:
                await self._sleep_unless_woken(self._poll_seconds)

    async def _sleep_unless_woken(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many went out.

        Raises the first error when a row could not be published (the rows of other
        keys that went out are marked all the same).
        """
        result = await self.publish_round()
        if result.error is not None:
            raise result.error
        return result.published

    async def publish_round(self) -> RoundResult:
        """One round: claim a batch, publish it key by key, mark each row by its outcome."""
        if not await self._lease.hold():
            return RoundResult(0)  # a standby: another replica is the active relay
        async with self._sessions() as session, session.begin():
            if not await _hold_relay_lock(session):
                return RoundResult(0)  # the previous holder's last round is still open
            rows = await self._claim(session)
            if not rows:
                return RoundResult(0)
            errors = await _publish_in_key_order(rows, self._publish)
            return await self._mark(rows, errors)

    async def _claim(self, session: AsyncSession) -> Sequence[OutboxMessage]:
        # Rows behind a parked row of their key wait. Parked rows are few (each one is
        # alerted on), so their keys are read first and the claim excludes what lies
        # behind them. (A correlated NOT EXISTS here scanned every earlier unpublished
        # row for each candidate on PostgreSQL: quadratic in the backlog, 0.66 s a round
        # for 2,000 rows, exactly when a backlog after an outage must drain.)
        parked = (
            await session.execute(
                select(col(OutboxMessage.subject), func.min(col(OutboxMessage.position)))
                .where(
                    col(OutboxMessage.parked_at).is_not(None),
                    col(OutboxMessage.published_at).is_(None),
                )
                .group_by(col(OutboxMessage.subject))
            )
        ).all()
        behind_a_parked_row = [
            and_(col(OutboxMessage.subject) == subject, col(OutboxMessage.position) > position)
            for subject, position in parked
        ]
        return (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    col(OutboxMessage.published_at).is_(None),
                    col(OutboxMessage.parked_at).is_(None),
                    *([not_(or_(*behind_a_parked_row))] if behind_a_parked_row else []),
                )
                .order_by(col(OutboxMessage.position))
                .limit(self._batch_size)
                .with_for_update(of=OutboxMessage)
            )
        ).all()

    async def _mark(
        self, rows: Sequence[OutboxMessage], errors: dict[int, BaseException]
    ) -> RoundResult:
        refusals = [e for e in errors.values() if not isinstance(e, WaitsBehindFailureError)]
        first_error = refusals[0] if refusals else None
        # A refusal while Kafka answers is the row's fault; otherwise it is an outage.
        outage = first_error is not None and not await self._kafka_answers_now()
        published = 0
        for row in rows:
            error = errors.get(id(row))
            if error is None:
                row.mark_published(utc_now())
                published += 1
                self._metrics.messages_published.labels(self._metrics.service, row.topic).inc()
                self._count_event(row, "published")
            elif not isinstance(error, WaitsBehindFailureError):
                self._count_event(row, self._count_failure(row, error, outage=outage))
        if published:
            logger.debug("published %d outbox events", published)
        return RoundResult(published, first_error, outage=outage)

    def _count_event(self, row: OutboxMessage, outcome: str) -> None:
        self._metrics.events_published.labels(
            self._metrics.service, row.topic, row.event_type, outcome
        ).inc()

    def _count_failure(self, row: OutboxMessage, error: BaseException, *, outage: bool) -> str:
        """Record a failed attempt on the row; return the outcome to count."""
        row.last_error = f"{error.__class__.__name__}: {error}"[:2000]
        if outage or isinstance(error, KafkaUnavailableError):
            return "unavailable"  # not the row's fault: Kafka or our producer was not ready
        row.attempts += 1
        if row.attempts < self._max_attempts:
            return "refused"
        row.parked_at = utc_now()
        logger.error(
            "parked outbox event %s (%s on %s) after %d attempts: %s; later events of "
            "subject %s wait behind it (`lobu outbox retry` releases it)",
            row.event_id, row.event_type, row.topic, row.attempts, row.last_error,
            row.subject,
        )  # fmt: skip
        return "parked"

    async def _kafka_answers_now(self) -> bool:
        if self._kafka_answers is None:
            return True
        try:
            return await self._kafka_answers()
        except Exception:
            return False

    async def _update_gauges(self, *, force: bool = False) -> None:
        # Counting the backlog costs a query: at most once every few seconds.
        now = time.monotonic()
        if not force and now - self._last_gauge_update < 5:
            return
        self._last_gauge_update = now
        try:
            async with self._sessions() as session:
                count, oldest, parked = (
                    await session.execute(
                        select(
                            func.count(),
                            func.min(col(OutboxMessage.created_at)),
                            func.count(col(OutboxMessage.parked_at)),
                        ).where(col(OutboxMessage.published_at).is_(None))
                    )
                ).one()
        except Exception:
            logger.debug("cannot read the outbox backlog", exc_info=True)
            return
        self._metrics.outbox_backlog.labels(self._metrics.service).set(count)
        self._metrics.outbox_parked.labels(self._metrics.service).set(parked)
        age = 0.0
        if oldest is not None:
            age = (utc_now() - as_utc(oldest)).total_seconds()
        self._metrics.outbox_oldest_age.labels(self._metrics.service).set(age)


async def _hold_relay_lock(session: AsyncSession) -> bool:
    """Take this round's fence lock (PostgreSQL); False while another round holds it."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    taken = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RELAY_LOCK_KEY}
    )
    return bool(taken)


async def _publish_in_key_order(
    rows: Sequence[OutboxMessage], publish: PublishRecord
) -> dict[int, BaseException]:
    """Send each key's rows one after another, keys side by side; return the failures.

    The result maps `id(row)` to its error. A key stops at its first failure: its later
    rows are not sent and are returned as `WaitsBehindFailureError`.
    """
    by_key: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        by_key.setdefault(row.subject, []).append(row)
    errors: dict[int, BaseException] = {}

    async def send_key(key_rows: list[OutboxMessage]) -> None:
        for index, row in enumerate(key_rows):
            try:
                await _publish_traced(row, publish)
            except Exception as error:
                errors[id(row)] = error
                for later in key_rows[index + 1 :]:
                    errors[id(later)] = WaitsBehindFailureError(row.event_id)
                return

    await asyncio.gather(*(send_key(key_rows) for key_rows in by_key.values()))
    return errors


async def _publish_traced(row: OutboxMessage, publish: PublishRecord) -> None:
    """Publish one row in a producer span of the trace that wrote it.

    The record carries the row's traceparent; a row written outside any trace (demo
    data, rows older than the column) gets the publish span's own, so every record
    has one.
    """
    with tracer().start_as_current_span(
        f"publish {row.topic}",
        context=context_of(row.traceparent),
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": row.topic,
            "messaging.message.id": row.event_id,
            "cloudevents.event_type": row.event_type,
        },
    ):
        envelope = row.to_envelope()
        if envelope.traceparent is None:
            envelope = replace(envelope, traceparent=current_traceparent())
        await publish(row.topic, to_kafka_record(envelope))


class WaitsBehindFailureError(Exception):
    """Not sent this round: an earlier row of the same key failed."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"waits behind event {event_id} of the same key")
