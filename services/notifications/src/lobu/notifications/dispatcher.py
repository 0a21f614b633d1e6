"""Sends due deliveries, with retries and back-off; a delivery is an outbox for email.

The consumers only write deliveries (in the transaction of the event); this task
sends them, so SMTP being slow or down never holds up a consumer. Each round:

1. claim up to `concurrency` due deliveries in one short transaction (compare-and-set
   to `sending`, with a lease), suppressing those whose recipient has opted out since;
2. send them at once, no transaction open while SMTP talks;
3. record each outcome in its own transaction: sent, retrying (after a back-off), or
   failed (attempts used up, or a permanent 5xx refusal).

A delivery is marked sent right after the SMTP server accepted it; only a crash
between those two steps leaves it `sending`, and once its lease ends it is sent again
with the same Message-ID, so the receiver can recognise the copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Gauge
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from lobu.notifications import smtp_errors
from lobu.notifications.deliveries import claim_for_sending
from lobu.notifications.digest import DigestComposer
from lobu.notifications.mailer import MailerProto, OutgoingMail
from lobu.notifications.models import (
    DUE_STATUSES,
    Delivery,
    DeliveryStatus,
    WebhookStatus,
    WebhookSubscription,
)
from lobu.notifications.preferences import DeliveryMode, mode_of
from lobu.notifications.retention import PersonalDataRetention
from lobu.notifications.routing import Category
from lobu.shared import as_utc, utc_now
from lobu.shared.tracing import context_of, tracer

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# The longest wait between two attempts: an SMTP outage of hours is retried every 15
# minutes, so mail goes out soon after the relay is back.
MAX_BACKOFF_SECONDS = 900


def backoff_seconds(attempts: int) -> int:
    """Wait before attempt `attempts + 1`: 1, 2, 4, ... seconds, at most 15 minutes."""
    return int(min(2 ** min(attempts - 1, 30), MAX_BACKOFF_SECONDS))


def retry_span_seconds(max_attempts: int) -> int:
    """How long after its first attempt a delivery's last one comes (then it is failed)."""
    return sum(backoff_seconds(attempt) for attempt in range(1, max_attempts))


@dataclass(frozen=True)
class DeliveryMetrics:
    """The dispatcher's metrics (created in main.py, in the service's registry)."""

    outcomes: Counter  # channel, status: sent, retried, failed, suppressed
    by_status: Gauge  # channel, status: deliveries in the log now
    retry_backlog: Gauge  # channel: deliveries waiting for another attempt
    oldest_pending_age: Gauge  # channel: seconds the oldest unsent delivery has waited


@dataclass(frozen=True)
class _Claimed:
    id: int
    attempts: int
    mail: OutgoingMail
    traceparent: str | None = None


class DeliveryDispatcher:
    """Works through due deliveries in the background with bounded concurrency."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mailer: MailerProto,
        *,
        metrics: DeliveryMetrics,
        max_attempts: int,
        poll_seconds: float,
        concurrency: int = 4,
        sending_lease_seconds: float = 300.0,
        digests: DigestComposer | None = None,
        retention: PersonalDataRetention | None = None,
        clock: Clock = utc_now,
        batch_size: int = 20,
        stop_grace_seconds: float = 15.0,
    ) -> None:
        self._sessions = sessions
        self._mailer = mailer
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._poll_seconds = poll_seconds
        self._concurrency = concurrency
        self._lease = timedelta(seconds=sending_lease_seconds)
        self._digests = digests
        self._retention = retention
        self._clock = clock
        self._batch_size = batch_size
        self._stop_grace_seconds = stop_grace_seconds
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start sending in the background."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="delivery-dispatcher")

    async def stop(self) -> None:
        """Finish the messages in flight (within a grace period), then stop."""
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

    async def run_once(self) -> int:
        """One round: compose due digests, send what is due, erase personal data no
        longer needed, refresh the gauges; return how many deliveries were tried."""
        if self._digests is not None:
            await self._digests.compose_due(self._clock())
        sent = await self.send_due()
        if self._retention is not None:
            await self._retention.erase_due(self._clock())
        await self.refresh_metrics()
        return sent

    async def _run(self) -> None:
        while not self._stopping.is_set():
            sent = 0
            try:
                sent = await self.run_once()
            except Exception as error:
                # No traceback: its frames' text may hold a recipient (issue 6, defect 9).
                logger.error("delivery round failed: %s", smtp_errors.describe(error))
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)

    async def send_due(self) -> int:
        """Try the deliveries that are due now, a few at once; return how many were tried."""
        tried = 0
        while tried < self._batch_size and not self._stopping.is_set():
            claimed = await self._claim(min(self._concurrency, self._batch_size - tried))
            if not claimed:
                break
            await asyncio.gather(*(self._send(each) for each in claimed))
            tried += len(claimed)
        return tried

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self._clock()
        due = or_(
            and_(col(Delivery.status).in_(DUE_STATUSES), col(Delivery.next_attempt_at) <= now),
            # Claimed by a process that died before recording the outcome.
            and_(
                col(Delivery.status) == DeliveryStatus.SENDING.value,
                col(Delivery.next_attempt_at) <= now,
            ),
        )
        claimed: list[_Claimed] = []
        async with self._sessions() as session, session.begin():
            candidates = (
                await session.scalars(
                    select(Delivery)
                    # Webhook deliveries share the log; their own sender sends them.
                    .where(due, col(Delivery.channel) == "email")
                    .order_by(col(Delivery.next_attempt_at), col(Delivery.id))
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for delivery in candidates:
                if await self._opted_out(session, delivery):
                    delivery.status = DeliveryStatus.SUPPRESSED.value
                    delivery.last_error = "unsubscribed before it was sent"
                    self._metrics.outcomes.labels(delivery.channel, "suppressed").inc()
                    continue
                if delivery.id is None or not await claim_for_sending(
                    session, delivery, lease_until=now + self._lease
                ):
                    continue
                claimed.append(
                    _Claimed(
                        id=delivery.id,
                        attempts=delivery.attempts + 1,
                        mail=OutgoingMail(
                            recipient=delivery.recipient,
                            subject=delivery.subject,
                            text=delivery.body,
                            html=delivery.html_body,
                            idempotency_key=f"{delivery.event_id}:{delivery.recipient}",
                            unsubscribe_url=delivery.unsubscribe_url,
                            reply_to=delivery.reply_to,
                        ),
                        traceparent=delivery.traceparent,
                    )
                )
        return claimed

    async def _opted_out(self, session: AsyncSession, delivery: Delivery) -> bool:
        try:
            category = Category(delivery.category)
        except ValueError:
            return False
        return await mode_of(session, delivery.recipient, category) is DeliveryMode.OFF

    async def _send(self, claimed: _Claimed) -> None:
        try:
            with tracer().start_as_current_span(
                "send email",
                context=context_of(claimed.traceparent),
                kind=SpanKind.CLIENT,
                attributes={
                    "lobu.delivery.channel": "email",
                    "lobu.delivery.attempt": claimed.attempts,
                },
            ):
                await self._mailer.send(claimed.mail)
        except Exception as error:
            await self._record_failure(claimed, error)
            return
        await self._record(
            claimed,
            status=DeliveryStatus.SENT,
            values={"sent_at": self._clock(), "last_error": None},
        )
        self._metrics.outcomes.labels("email", "sent").inc()

    async def _record_failure(self, claimed: _Claimed, error: Exception) -> None:
        # Never the error's text: SMTP replies name the recipient (issue 6, defect 9).
        description = smtp_errors.describe(error)
        if claimed.attempts >= self._max_attempts or smtp_errors.is_permanent(error):
            await self._record(
                claimed, status=DeliveryStatus.FAILED, values={"last_error": description}
            )
            logger.error("giving up on delivery %s: %s", claimed.id, description)
            self._metrics.outcomes.labels("email", "failed").inc()
            return
        wait = backoff_seconds(claimed.attempts)
        await self._record(
            claimed,
            status=DeliveryStatus.RETRYING,
            values={
                "last_error": description,
                "next_attempt_at": self._clock() + timedelta(seconds=wait),
            },
        )
        logger.warning("delivery %s failed (%s), retry in %d s", claimed.id, description, wait)
        self._metrics.outcomes.labels("email", "retried").inc()

    async def _record(
        self, claimed: _Claimed, *, status: DeliveryStatus, values: dict[str, object]
    ) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(Delivery)
                .where(
                    col(Delivery.id) == claimed.id,
                    col(Delivery.status) == DeliveryStatus.SENDING.value,
                    col(Delivery.attempts) == claimed.attempts,
                )
                .values(status=status.value, **values)
                .execution_options(synchronize_session=False)
            )

    async def refresh_metrics(self) -> None:
        """Set the gauges from the delivery log: counts by status, backlog, oldest age.

        The backlog and the oldest age leave out the deliveries of paused or disabled
        webhook subscriptions: they wait on purpose (for an admin), so counting them
        would keep `LobuNotificationBacklogGrowing` firing for as long as they wait.
        """
        waiting = ~_held_for_a_subscription()
        async with self._sessions() as session:
            counts = (
                await session.execute(
                    select(col(Delivery.channel), col(Delivery.status), func.count()).group_by(
                        col(Delivery.channel), col(Delivery.status)
                    )
                )
            ).all()
            backlog = (
                await session.execute(
                    select(col(Delivery.channel), func.count())
                    .where(col(Delivery.status) == DeliveryStatus.RETRYING.value, waiting)
                    .group_by(col(Delivery.channel))
                )
            ).all()
            oldest = (
                await session.execute(
                    select(col(Delivery.channel), func.min(col(Delivery.created_at)))
                    .where(
                        col(Delivery.status).in_([*DUE_STATUSES, DeliveryStatus.SENDING.value]),
                        waiting,
                    )
                    .group_by(col(Delivery.channel))
                )
            ).all()
        now = self._clock()
        channels = {"email", "webhook"} | {str(channel) for channel, _, _ in counts}
        for channel in channels:
            for each in DeliveryStatus:
                self._metrics.by_status.labels(channel, each.value).set(0)
            self._metrics.retry_backlog.labels(channel).set(0)
            self._metrics.oldest_pending_age.labels(channel).set(0)
        for channel, status, number in counts:
            self._metrics.by_status.labels(channel, status).set(number)
        for channel, number in backlog:
            self._metrics.retry_backlog.labels(channel).set(number)
        for channel, created_at in oldest:
            if created_at is not None:
                age = (now - as_utc(created_at)).total_seconds()
                self._metrics.oldest_pending_age.labels(channel).set(max(age, 0.0))


def _held_for_a_subscription() -> ColumnElement[bool]:
    """Webhook deliveries whose subscription is not active (paused, disabled, gone)."""
    active = select(col(WebhookSubscription.id)).where(
        col(WebhookSubscription.status) == WebhookStatus.ACTIVE.value
    )
    return and_(col(Delivery.channel) == "webhook", col(Delivery.recipient).not_in(active))
