"""Fixed-window rate limits that hold across processes: the contact form and sign-in.

Each count is one `INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING
count`: the row lock of the upsert orders concurrent requests, so of N requests at
once exactly `limit` see a count within it, however many processes serve them (a
"count, then insert" would let them all read the same count). Callers count inside
their own transaction: over the limit they roll back, so nothing is done and the
counts stay as they were. Keys name what is limited (`client:<hash>`, never an
address); windows before the last one are deleted as they go.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.directory.models import ContactRateWindow


async def over_limit(
    session: AsyncSession, limits: Mapping[str, int], *, now: datetime, window_seconds: int
) -> str | None:
    """Count one more for each key of `limits`; the first key past its limit, else None."""
    began = now.timestamp() // window_seconds * window_seconds
    start = datetime.fromtimestamp(began, tz=now.tzinfo)
    await session.execute(
        delete(ContactRateWindow).where(
            col(ContactRateWindow.window_start) < start - timedelta(seconds=window_seconds)
        )
    )
    for key in sorted(limits):  # one order for every request: no deadlock between two
        if await _count_one_more(session, key, start) > limits[key]:
            return key
    return None


def hashed_key(purpose: str, value: str) -> str:
    """A rate limit's name for a client address or an email: a hash, not the value."""
    return hashlib.sha256(f"lobu-{purpose}:{value}".encode()).hexdigest()[:40]


async def _count_one_more(session: AsyncSession, key: str, start: datetime) -> int:
    """Add one to the key's count in the window, atomically; the count after it."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = ContactRateWindow.__table__  # type: ignore[attr-defined]
    statement = (
        dialect.insert(table)
        .values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": table.c["count"] + 1}
        )
        .returning(table.c["count"])
    )
    count: int = (await session.execute(statement)).scalar_one()
    return count
