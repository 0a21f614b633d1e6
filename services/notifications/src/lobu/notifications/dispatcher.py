"""Sends pending deliveries, with retries and back-off; a delivery is an outbox for email.

The consumer only writes `pending` deliveries (in the transaction of the event); this
task sends them and records the outcome. A delivery is marked sent (and committed)
right after the SMTP server accepted it; only a crash between those two steps could
send it twice, and its Message-ID lets the receiver recognise the copy.
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

from lobu.notifications import smtp_errors
from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.models import Delivery, DeliveryStatus
from lobu.shared import utc_now

logger = logging.getLogger(__name__)


class DeliveryDispatcher:
    """Works through pending deliveries in the background, one transaction each."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mailer: SmtpMailer,
        *,
        outcomes: Counter,
        max_attempts: int,
        poll_seconds: float,
        batch_size: int = 20,
        stop_grace_seconds: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._outcomes = outcomes
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._stop_grace_seconds = stop_grace_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sending in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="delivery-dispatcher")

    async def stop(self) -> None:
        """Finish the message in flight (within a grace period), then stop."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self._stop_grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                sent = await self.send_due()
            except Exception as error:
                # No traceback: its frames' text may hold a recipient (issue 6, defect 9).
                logger.error("delivery round failed: %s", smtp_errors.describe(error))
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)

    async def send_due(self) -> int:
        """Try up to a batch of deliveries that are due now; return how many were tried.

        Each delivery is claimed, sent and marked in its own transaction, so a mail the
        SMTP server accepted stays marked sent even if a later one is interrupted.
        """
        tried = 0
        while tried < self._batch_size and not self._stopping.is_set():
            async with self._sessions() as session, session.begin():
                delivery = await session.scalar(
                    select(Delivery)
                    .where(
                        col(Delivery.status) == DeliveryStatus.PENDING.value,
                        col(Delivery.next_attempt_at) <= utc_now(),
                    )
                    .order_by(col(Delivery.id))
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if delivery is None:
                    break
                outcome = await self._attempt(delivery)
            self._outcomes.labels(outcome).inc()  # counted once the outcome is committed
            tried += 1
        return tried

    async def _attempt(self, delivery: Delivery) -> str:
        delivery.attempts += 1
        try:
            await self._mailer.send(
                recipient=delivery.recipient,
                subject=delivery.subject,
                body=delivery.body,
                idempotency_key=f"{delivery.event_id}:{delivery.recipient}",
            )
        except Exception as error:
            # Never the error's text: SMTP replies name the recipient (issue 6, defect 9).
            delivery.last_error = smtp_errors.describe(error)
            if delivery.attempts >= self._max_attempts or smtp_errors.is_permanent(error):
                delivery.status = DeliveryStatus.FAILED.value
                logger.error("giving up on delivery %s: %s", delivery.id, delivery.last_error)
                return DeliveryStatus.FAILED.value
            backoff = min(2 ** (delivery.attempts - 1), 300)
            delivery.next_attempt_at = utc_now() + timedelta(seconds=backoff)
            logger.warning(
                "delivery %s failed (%s), retry in %d s", delivery.id, delivery.last_error, backoff
            )
            return "retried"
        delivery.status = DeliveryStatus.SENT.value
        delivery.sent_at = utc_now()
        delivery.last_error = None
        return DeliveryStatus.SENT.value
