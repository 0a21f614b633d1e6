"""The outbox relay: publishes committed outbox rows to Kafka in order, and marks them sent.

Runs as a task in the service process. When Kafka is away, publishing fails, the
rows stay unpublished and the relay retries with back-off; nothing is lost. Rows are
claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several replicas may run a
relay without publishing a row twice at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.clock import as_utc, utc_now
from lobu.shared.envelope import KafkaRecord, to_kafka_record
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage

logger = logging.getLogger(__name__)

# Publishes one record to a topic; raises when Kafka did not acknowledge it.
PublishRecord = Callable[[str, KafkaRecord], Awaitable[None]]


class OutboxRelay:
    """Moves outbox rows to Kafka, oldest first, in batches."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publish: PublishRecord,
        *,
        metrics: ServiceMetrics,
        poll_seconds: float = 0.5,
        batch_size: int = 200,
    ) -> None:
        self._sessions = sessions
        self._publish = publish
        self._metrics = metrics
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_gauge_update = 0.0

    def start(self) -> None:
        """Run the relay in the background."""
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    def wake(self) -> None:
        """Publish soon: a transaction with new events has committed."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop after the batch in flight."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                published = await self.publish_pending()
                failures = 0
                await self._update_gauges()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                delay = min(0.5 * 2 ** min(failures, 5), 10.0)
                log = logger.warning if failures in (1, 10) or failures % 50 == 0 else logger.debug
                log("outbox relay cannot publish (%s); retry %d in %.1f s", error, failures, delay)
                await self._update_gauges(force=True)
                await asyncio.sleep(delay)
                continue
            if published < self._batch_size:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._poll_seconds)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many went out.

        Records are sent together and confirmed in order; the first one Kafka did not
        acknowledge stops the batch, so later rows wait and order is kept.
        """
        async with self._sessions() as session, session.begin():
            rows = (
                await session.scalars(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.published_at).is_(None))
                    .order_by(col(OutboxMessage.position))
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            sends = [
                asyncio.ensure_future(self._publish(row.topic, to_kafka_record(row.to_envelope())))
                for row in rows
            ]
            published = 0
            error: BaseException | None = None
            for row, send in zip(rows, sends, strict=True):
                try:
                    await send
                except Exception as send_error:
                    row.attempts += 1
                    row.last_error = str(send_error)[:2000]
                    error = send_error
                    break
                row.published_at = utc_now()
                published += 1
                self._metrics.messages_published.labels(self._metrics.service, row.topic).inc()
            # The rest of the batch waits for the next round; its outcome does not count.
            for send in sends[published:]:
                send.cancel()
            await asyncio.gather(*sends[published:], return_exceptions=True)
        if error is not None:
            raise error
        logger.debug("published %d outbox events", published)
        return published

    async def _update_gauges(self, *, force: bool = False) -> None:
        # Counting the backlog costs a query: at most once every few seconds.
        now = time.monotonic()
        if not force and now - self._last_gauge_update < 5:
            return
        self._last_gauge_update = now
        try:
            async with self._sessions() as session:
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(col(OutboxMessage.created_at))).where(
                            col(OutboxMessage.published_at).is_(None)
                        )
                    )
                ).one()
        except Exception:
            logger.debug("cannot read the outbox backlog", exc_info=True)
            return
        self._metrics.outbox_backlog.labels(self._metrics.service).set(count)
        age = 0.0
        if oldest is not None:
            age = (utc_now() - as_utc(oldest)).total_seconds()
        self._metrics.outbox_oldest_age.labels(self._metrics.service).set(age)
