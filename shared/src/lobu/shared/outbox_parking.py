"""Parked outbox rows: the ones the relay gave up on, for operators to see and release.

A row is parked after Kafka refused it `outbox_max_attempts` times while answering (a
missing topic, an ACL, a record too large). It and the later rows of its subject wait;
once the cause is fixed, releasing it lets the relay publish them all, in order.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.database import transaction
from lobu.shared.outbox import OutboxMessage


async def parked_rows(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    """Every parked, unpublished row, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.parked_at).is_not(None),
                col(OutboxMessage.published_at).is_(None),
            )
            .order_by(col(OutboxMessage.position))
        )
        return list(rows.all())


async def release_parked(
    sessions: async_sessionmaker[AsyncSession], event_ids: Sequence[str] | None = None
) -> int:
    """Give parked rows (all, or those of `event_ids`) fresh attempts; return how many."""
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.parked_at).is_not(None),
            col(OutboxMessage.published_at).is_(None),
        )
        .values(parked_at=None, attempts=0)
    )
    if event_ids is not None:
        statement = statement.where(col(OutboxMessage.event_id).in_(event_ids))
    async with transaction(sessions) as session:
        result = await session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]
