"""Sends pending deliveries, with retries and back-off; a delivery is an outbox for email.

The consumer only writes `pending` deliveries (in the transaction of the event); this
task sends them and records the outcome. A delivery is marked sent right after the
SMTP server accepted it; only a crash between those two steps could send it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.models import Delivery, DeliveryStatus
from lobu.shared import utc_now

logger = logging.getLogger(__name__)


class DeliveryDispatcher:
    """Works through pending deliveries in the background."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mailer: SmtpMailer,
        *,
        outcomes: Counter,
        max_attempts: int,
        poll_seconds: float,
        batch_size: int = 20,
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._outcomes = outcomes
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sending in the background."""
        self._task = asyncio.create_task(self._run(), name="delivery-dispatcher")

    async def stop(self) -> None:
        """Stop after the message in flight."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("delivery round failed")
                sent = 0
            if sent == 0:
                await asyncio.sleep(self._poll_seconds)

    async def send_due(self) -> int:
        """Try every delivery that is due now; return how many were tried."""
        async with self._sessions() as session, session.begin():
            due = (
                await session.scalars(
                    select(Delivery)
                    .where(
                        col(Delivery.status) == DeliveryStatus.PENDING.value,
                        col(Delivery.next_attempt_at) <= utc_now(),
                    )
                    .order_by(col(Delivery.id))
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for delivery in due:
                await self._attempt(delivery)
        return len(due)

    async def _attempt(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        try:
            await self._mailer.send(
                recipient=delivery.recipient,
                subject=delivery.subject,
                body=delivery.body,
                idempotency_key=f"{delivery.event_id}:{delivery.recipient}",
            )
        except Exception as error:
            delivery.last_error = f"{error.__class__.__name__}: {error}"[:2000]
            if delivery.attempts >= self._max_attempts:
                delivery.status = DeliveryStatus.FAILED.value
                self._outcomes.labels(DeliveryStatus.FAILED.value).inc()
                logger.error("giving up on delivery %s: %s", delivery.id, delivery.last_error)
            else:
                backoff = min(2 ** (delivery.attempts - 1), 300)
                delivery.next_attempt_at = utc_now() + timedelta(seconds=backoff)
                self._outcomes.labels("retried").inc()
                logger.warning("delivery %s failed, retry in %d s", delivery.id, backoff)
            return
        delivery.status = DeliveryStatus.SENT.value
        delivery.sent_at = utc_now()
        delivery.last_error = None
        self._outcomes.labels(DeliveryStatus.SENT.value).inc()
