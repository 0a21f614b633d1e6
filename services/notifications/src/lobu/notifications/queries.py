"""Reading the delivery log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.models import Delivery
from lobu.notifications.schemas import DeliveryPage, DeliveryView
from lobu.shared import as_utc
from lobu.shared.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class DeliveryFilters:
    """What the delivery log is narrowed to."""

    status: str | None = None
    alliance_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    category: str | None = None
    channel: str | None = None
    recipient: str | None = None


def as_view(row: Delivery) -> DeliveryView:
    """The API's view of a row, with its times in UTC whatever the database returned."""
    view = DeliveryView.model_validate(row)
    view.created_at = as_utc(view.created_at)
    view.next_attempt_at = as_utc(view.next_attempt_at)
    view.sent_at = as_utc(view.sent_at) if view.sent_at else None
    return view


async def list_deliveries(
    sessions: async_sessionmaker[AsyncSession],
    filters: DeliveryFilters,
    *,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """Deliveries, newest first, by keyset on the id."""
    query = select(Delivery).order_by(col(Delivery.id).desc()).limit(limit + 1)
    for column, value in (
        (Delivery.status, filters.status),
        (Delivery.alliance_id, filters.alliance_id),
        (Delivery.event_id, filters.event_id),
        (Delivery.event_type, filters.event_type),
        (Delivery.category, filters.category),
        (Delivery.channel, filters.channel),
        (Delivery.recipient, filters.recipient.strip().lower() if filters.recipient else None),
    ):
        if value:
            query = query.where(col(column) == value)
    if cursor:
        (last_id,) = decode_cursor(cursor, types=(int,))
        query = query.where(col(Delivery.id) < last_id)
    async with sessions() as session:
        rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].id]) if more and rows else None
    return DeliveryPage(items=[as_view(row) for row in rows], next_cursor=next_cursor)
