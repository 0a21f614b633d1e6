"""What the operator commands (`lobu outbox status`, `lobu consumer lag`) read and print."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.clock import as_utc, utc_now
from lobu.shared.outbox import OutboxMessage


@dataclass(frozen=True)
class OutboxStatus:
    """One service's outbox now."""

    unpublished: int
    parked: int
    oldest_unpublished_at: datetime | None
    published: int

    @property
    def oldest_age_seconds(self) -> float | None:
        """How long the oldest unpublished event has waited (None: nothing waits)."""
        if self.oldest_unpublished_at is None:
            return None
        return max((utc_now() - as_utc(self.oldest_unpublished_at)).total_seconds(), 0.0)


async def outbox_status(sessions: async_sessionmaker[AsyncSession]) -> OutboxStatus:
    """Count the outbox's rows: waiting, parked, published; the oldest waiting one."""
    async with sessions() as session:
        unpublished, parked, oldest = (
            await session.execute(
                select(
                    func.count(),
                    func.count(col(OutboxMessage.parked_at)),
                    func.min(col(OutboxMessage.created_at)),
                ).where(col(OutboxMessage.published_at).is_(None))
            )
        ).one()
        published = await session.scalar(
            select(func.count()).where(col(OutboxMessage.published_at).is_not(None))
        )
    return OutboxStatus(int(unpublished), int(parked), oldest, int(published or 0))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table: left-aligned text, right-aligned numbers, columns by width."""
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) and bool(rows)
        for i in range(len(headers))
    ]
    lines = []
    for row in cells:
        lines.append(
            "  ".join(
                cell.rjust(widths[i]) if numeric[i] else cell.ljust(widths[i])
                for i, cell in enumerate(row)
            ).rstrip()
        )
    return "\n".join(lines)
