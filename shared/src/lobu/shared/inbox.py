"""The inbox: which events a consumer has already handled, for effectively-once effects.

A consumer claims an event id in the same transaction as its effect; a second
delivery of the same event finds the claim and does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from lobu.shared.clock import utc_now
from lobu.shared.database import insert_ignoring_duplicates


class InboxMessage(SQLModel, table=True):
    """An event a named consumer has handled."""

    __tablename__ = "inbox"
    # Retention deletes by age (lobu.shared.retention).
    __table_args__ = (Index("ix_inbox_handled_at", "handled_at"),)

    consumer: str = Field(primary_key=True, max_length=100)
    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    handled_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


async def claim_event(
    session: AsyncSession, *, consumer: str, event_id: str, event_type: str
) -> bool:
    """Record that `consumer` handles `event_id`; False when it already has.

    One statement, `INSERT ... ON CONFLICT DO NOTHING RETURNING`: a concurrent second
    claim of the same event waits for the first transaction and then finds the row
    (False), or takes it if the first rolled back.
    """
    statement = insert_ignoring_duplicates(
        session, InboxMessage,
        consumer=consumer, event_id=event_id, event_type=event_type, handled_at=utc_now(),
    )  # fmt: skip
    claimed = await session.scalar(statement.returning(col(InboxMessage.event_id)))
    return claimed is not None
