"""A delete racing an update on PostgreSQL: the deletion still gets the newest version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.errors import StaleVersionError
from lobu.directory.models import Alliance
from lobu.directory.schemas import AllianceCreate
from lobu.directory.service import AllianceDirectory
from lobu.shared.auth import Caller, Role
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.migrations import upgrade_database
from lobu.shared.outbox import OutboxMessage
from tests.support.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ADMIN = Caller(subject="servicebuero", role=Role.ADMIN)


@pytest_asyncio.fixture(loop_scope="session")
async def engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    with postgres.database() as url:
        engine = create_engine(url)
        await upgrade_database(engine, "lobu.directory:migrations")
        yield engine
        await engine.dispose()


async def _versions_in_outbox(
    sessions: async_sessionmaker[AsyncSession], alliance_id: str
) -> dict[str, list[int]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(col(OutboxMessage.subject) == alliance_id)
            .order_by(col(OutboxMessage.position))
        )
        versions: dict[str, list[int]] = {}
        for row in rows:
            data: dict[str, Any] = row.data
            kind = ".".join(row.event_type.split(".")[2:4])  # e.g. "alliance.deleted"
            versions.setdefault(kind, []).append(int(data["version"]))
    return versions


async def _wait_until_a_query_waits_for_a_lock(engine: AsyncEngine) -> None:
    """Wait (up to 60 s) until another backend is blocked on a row lock."""
    for _ in range(600):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the delete never waited for the update's row lock")


async def _enter(directory: AllianceDirectory) -> str:
    created = await directory.create(
        AllianceCreate(name="Bündnis Goslar", state="NI", postal_code="38640", city="Goslar"),
        actor=ADMIN,
    )
    return created.id


async def test_a_delete_racing_an_update_publishes_a_newer_version_than_the_update(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    directory = AllianceDirectory(sessions, source="/test")
    alliance_id = await _enter(directory)

    async with sessions() as session, session.begin():
        # The update has written version 2 but not committed when the delete comes.
        alliance = await session.get(Alliance, alliance_id)
        assert alliance is not None
        await directory.update_in(session, alliance, {"city": "Bad Harzburg"}, actor=ADMIN)
        deleting = asyncio.create_task(directory.delete(alliance_id, actor=ADMIN))
        await _wait_until_a_query_waits_for_a_lock(engine)
    await asyncio.wait_for(deleting, timeout=60)

    versions = await _versions_in_outbox(sessions, alliance_id)
    assert versions["alliance.updated"] == [2]
    assert versions["alliance.deleted"] == [3]
    assert max(versions["alliance-contacts.changed"]) == 3  # the empty list after the deletion


async def test_a_delete_with_a_stale_if_match_is_refused_and_deletes_nothing(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    directory = AllianceDirectory(sessions, source="/test")
    alliance_id = await _enter(directory)

    async with sessions() as session, session.begin():
        alliance = await session.get(Alliance, alliance_id)
        assert alliance is not None
        await directory.update_in(session, alliance, {"city": "Bad Harzburg"}, actor=ADMIN)
        deleting = asyncio.create_task(
            directory.delete(alliance_id, expected_version=1, actor=ADMIN)
        )
        await _wait_until_a_query_waits_for_a_lock(engine)
    with pytest.raises(StaleVersionError):
        await asyncio.wait_for(deleting, timeout=60)

    assert (await directory.get(alliance_id)).version == 2
    assert "alliance.deleted" not in await _versions_in_outbox(sessions, alliance_id)
