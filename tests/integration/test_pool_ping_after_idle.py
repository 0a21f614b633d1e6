"""The pool pings a connection only after it lay idle, and replaces one that died meanwhile.

On PostgreSQL, because that is where pings cost round trips and where a server
restart or a killed backend leaves dead connections in the pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lobu.shared import database
from tests.support.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration]
async_test = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(loop_scope="session")
async def engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    with postgres.database() as url:
        engine = database.create_engine(url)
        yield engine
        await engine.dispose()


@pytest.fixture
def pings(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The connections the pool pinged, in order."""
    pinged: list[object] = []
    do_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        pinged.append(dbapi_connection)
        return do_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    return pinged


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


@async_test
async def test_a_connection_used_a_moment_ago_is_not_pinged(
    engine: AsyncEngine, pings: list[object]
) -> None:
    first = await backend_pid(engine)
    again = [await backend_pid(engine) for _ in range(5)]

    assert again == [first] * 5  # the same pooled connection every time
    assert pings == []


@async_test
async def test_a_connection_idle_for_longer_is_pinged_once_at_checkout(
    engine: AsyncEngine, pings: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.05)
    await backend_pid(engine)
    await asyncio.sleep(0.1)

    await backend_pid(engine)
    await backend_pid(engine)

    assert len(pings) == 1


@async_test
async def test_a_connection_that_died_while_idle_is_replaced_before_use(
    engine: AsyncEngine, postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.05)
    dead = await backend_pid(engine)
    killer = database.create_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dead})
    finally:
        await killer.dispose()
    await asyncio.sleep(0.1)

    replacement = await backend_pid(engine)  # no error: the ping found it dead

    assert replacement != dead
