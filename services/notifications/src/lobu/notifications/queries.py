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


async def list_deliveries(
    sessions: async_sessionmaker[AsyncSession],
    filters: DeliveryFilters,
    *,
    cursor: str | None,
    limit: int,
) -> DeliveryPage:
    """Deliveries, newest first, by keyset on the id."""
    query = select(Delivery).order_by(col(Delivery.id).desc()).limit(limit + 1)
    if filters.status:
        query = query.where(col(Delivery.status) == filters.status)
    if filters.alliance_id:
        query = query.where(col(Delivery.alliance_id) == filters.alliance_id)
    if filters.event_id:
        query = query.where(col(Delivery.event_id) == filters.event_id)
    if cursor:
        (last_id,) = decode_cursor(cursor, types=(int,))
        query = query.where(col(Delivery.id) < last_id)
    async with sessions() as session:
        rows = list((await session.scalars(query)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    items = []
    for row in rows:
        view = DeliveryView.model_validate(row)
        view.created_at = as_utc(view.created_at)
        view.sent_at = as_utc(view.sent_at) if view.sent_at else None
        items.append(view)
    next_cursor = encode_cursor([rows[-1].id]) if more and rows else None
    return DeliveryPage(items=items, next_cursor=next_cursor)
