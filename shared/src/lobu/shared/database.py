"""Async database access: one engine per service, SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Insert, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine
from sqlalchemy.orm import Session


def create_engine(database_url: str) -> AsyncEngine:
    """Create the service's engine; for SQLite, create the folder and turn on WAL.

    `hide_parameters` keeps the bound values (emails, names, mail bodies) out of
    every SQLAlchemy error text, and so out of logs and dead-letter headers.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        return engine
    engine = _create_async_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)
    _ping_connections_after_idle(engine)
    return engine


# A pooled connection that was in use this recently is not pinged when it is checked out.
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "lobu_idle_since"


def _ping_connections_after_idle(engine: AsyncEngine) -> None:
    """Ping a connection at checkout only when it lay idle in the pool for a while.

    SQLAlchemy's `pool_pre_ping` pings at every checkout, and with asyncpg a ping
    outside autocommit is three round trips (`BEGIN`, `;`, `ROLLBACK`): under load,
    more than the statement a search then sends (docs/performance.md). A connection
    checked in less than `PING_AFTER_IDLE_SECONDS` ago was working then; one idle
    longer (a night, a database restart, a failover) is pinged, and one that does
    not answer is replaced before the caller gets it (SQLAlchemy's documented
    `DisconnectionError` in a checkout listener: the pool connects anew, up to three
    times). What remains is a connection that dies within that second: its statement
    fails with a disconnect, SQLAlchemy invalidates the whole pool, and the caller's
    own retry or error path (an outage, `database_errors.is_outage`) takes over.
    """
    dialect = engine.dialect

    def fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError("the pooled connection did not answer a ping") from error

    event.listen(engine.sync_engine, "connect", fresh)
    event.listen(engine.sync_engine, "checkin", checked_in)
    event.listen(engine.sync_engine, "checkout", checked_out)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while the outbox relay writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit.

    Each factory has a session class of its own, so that a listener to its session
    events (e.g. `outbox.wake_after_commit`) hears this factory's sessions only, not
    those of another service or test in the same process.
    """

    class ServiceSession(Session):
        """A session of this factory."""

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=ServiceSession)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit when the block ends, roll back when it raises."""
    async with sessions() as session, session.begin():
        yield session


def is_postgresql(engine: AsyncEngine) -> bool:
    """True when the engine talks to PostgreSQL (row locking, full-text search)."""
    return engine.dialect.name == "postgresql"


def insert_ignoring_duplicates(session: AsyncSession, table: Any, **values: Any) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` in the session's dialect (PostgreSQL or SQLite).

    The unique key decides a race that "look, then insert" cannot: of two transactions
    inserting the same key, one inserts and the other finds the row there. Add
    `.returning(...)` to learn whether this one inserted.
    """
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).values(**values).on_conflict_do_nothing()
    return sqlite.insert(table).values(**values).on_conflict_do_nothing()


async def ping(engine: AsyncEngine) -> None:
    """Raise when the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
