"""Use cases on the delivery log: retry one failed delivery, or all of an event type;
and the claim both senders (mail and webhooks) take before sending one.

Like KoboToolbox's "retry" and "retry all": a failed delivery becomes due again with
a fresh allowance of attempts; it keeps its Message-ID, so a receiver that did get an
earlier copy recognises it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.errors import DeliveryNotFoundError, DeliveryNotRetryableError
from lobu.notifications.models import Delivery, DeliveryStatus
from lobu.notifications.queries import as_view
from lobu.notifications.schemas import DeliveryView
from lobu.shared import utc_now

RETRYABLE = (DeliveryStatus.FAILED.value,)


async def retry_delivery(
    sessions: async_sessionmaker[AsyncSession], delivery_id: int
) -> DeliveryView:
    """Make one failed delivery due now."""
    async with sessions() as session, session.begin():
        delivery = await session.scalar(
            select(Delivery).where(col(Delivery.id) == delivery_id).with_for_update()
        )
        if delivery is None:
            raise DeliveryNotFoundError(f"there is no delivery {delivery_id}")
        if delivery.status not in RETRYABLE:
            raise DeliveryNotRetryableError(
                f"delivery {delivery_id} is {delivery.status}; only failed ones can be retried",
                delivery_status=delivery.status,
            )
        _make_due(delivery)
        await session.flush()
        return as_view(delivery)


async def retry_failed(sessions: async_sessionmaker[AsyncSession], event_type: str) -> int:
    """Make every failed delivery of `event_type` due now; return how many."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(Delivery)
            .where(
                col(Delivery.event_type) == event_type,
                col(Delivery.status).in_(RETRYABLE),
            )
            .values(status=DeliveryStatus.PENDING.value, attempts=0, next_attempt_at=utc_now())
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _make_due(delivery: Delivery) -> None:
    delivery.status = DeliveryStatus.PENDING.value
    delivery.attempts = 0  # a fresh allowance; the log keeps last_error until it is sent
    delivery.next_attempt_at = utc_now()


async def claim_for_sending(
    session: AsyncSession, delivery: Delivery, *, lease_until: datetime
) -> bool:
    """Mark `delivery` as being sent, if nobody did since it was read; True if this did.

    A compare-and-set on status and attempts: on SQLite (no row locks) of two senders
    one wins here; on PostgreSQL the row lock of the claim already decided. The lease
    makes it due again should the process die before the outcome is recorded.
    """
    result = await session.execute(
        update(Delivery)
        .where(
            col(Delivery.id) == delivery.id,
            col(Delivery.status) == delivery.status,
            col(Delivery.attempts) == delivery.attempts,
        )
        .values(
            status=DeliveryStatus.SENDING.value,
            attempts=delivery.attempts + 1,
            next_attempt_at=lease_until,
        )
        .execution_options(synchronize_session=False)
    )
    return getattr(result, "rowcount", 0) == 1
