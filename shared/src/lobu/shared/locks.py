"""Per-entity locks for joins of facts that arrive on different topics.

A "whichever arrives second does the work" join (a welcome once both `created` and the
contacts are known; a survey invitation once both the survey and its recipients are
known) is lost under READ COMMITTED when the two handlers run at once on two consumer
instances: neither sees the other's uncommitted row. Both handlers call `lock_entity`
for the same (namespace, key) before they read; the second then waits until the first
has committed, and its reads (a new snapshot per statement) see the first one's rows.

On PostgreSQL this is a transaction-scoped advisory lock (`pg_advisory_xact_lock`),
released by commit or rollback, so nothing can leak. SQLite serialises writers of a
database file anyway, so there it is a no-op.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["entity_lock_key", "lock_entity"]


def entity_lock_key(namespace: str, key: str) -> int:
    """A stable signed 64-bit number for (namespace, key), the advisory lock's key.

    Stable across processes and Python versions (unlike `hash()`), so every instance
    of every service locks the same number for the same entity.
    """
    digest = hashlib.sha256(f"{namespace}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_entity(session: AsyncSession, namespace: str, key: str) -> None:
    """Hold a lock on (namespace, key) until the session's transaction ends.

    Call it first in every handler that takes part in the same join, before reading.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: writers of one database file are serialised already
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:key)"), {"key": entity_lock_key(namespace, key)}
    )
