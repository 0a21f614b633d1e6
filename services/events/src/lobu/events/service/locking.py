"""The lock that serialises everything touching an action's seats, on both backends.

PostgreSQL has `SELECT ... FOR UPDATE`; SQLite has no row locks at all. One statement
does the job on both: an UPDATE of the action's row as the first statement of the
transaction. On PostgreSQL it takes the row lock, held until commit, and a second
transaction's UPDATE waits for it (then sees the committed seats, as every later
statement of a READ COMMITTED transaction does). On SQLite the first write takes the
database's write lock, also held until commit; a second writer waits (busy_timeout),
and because the UPDATE is its transaction's first statement it reads no stale
snapshot. The UPDATE claims the next `serial`, which doubles as the order of arrival.
"""

from __future__ import annotations

import asyncio
import weakref

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.events.errors import ActionNotFoundError
from lobu.events.models import Action


async def lock_action(session: AsyncSession, action_id: str) -> tuple[Action, int]:
    """Lock the action until the transaction ends; the action, freshly read, and its serial."""
    action = await session.scalar(
        update(Action)
        .where(col(Action.id) == action_id)
        .values(serial=col(Action.serial) + 1)
        .returning(Action),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    if action is None:
        raise ActionNotFoundError(f"There is no action {action_id!r}.")
    return action, action.serial


class LocalQueues:
    """In-process queues per action, in front of the database lock.

    Requests for the same action wait here, without holding a database connection,
    instead of each taking a connection from the pool only to wait for the row lock.
    The database lock alone keeps the seats right (also across processes); this keeps
    a rush on one action from starving the pool for every other request.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def of(self, action_id: str) -> asyncio.Lock:
        """The queue of one action (dropped once nobody holds or waits for it)."""
        lock = self._locks.get(action_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[action_id] = lock
        return lock


async def take_seats(session: AsyncSession, action_id: str, seats: int) -> bool:
    """Add `seats` to the seats taken if they fit; False (and nothing changed) if not.

    The condition is checked by the database in the same statement, so even without
    the lock (or with a bug in it) no interleaving can take more seats than there are.
    """
    result = await session.execute(
        update(Action)
        .where(
            col(Action.id) == action_id,
            (col(Action.capacity).is_(None))
            | (col(Action.seats_taken) + seats <= col(Action.capacity)),
        )
        .values(seats_taken=col(Action.seats_taken) + seats)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def give_back_seats(session: AsyncSession, action_id: str, seats: int) -> None:
    """Return `seats` of a confirmed registration."""
    await session.execute(
        update(Action)
        .where(col(Action.id) == action_id)
        .values(seats_taken=col(Action.seats_taken) - seats)
        .execution_options(synchronize_session=False)
    )
