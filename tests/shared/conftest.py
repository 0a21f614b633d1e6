"""Fixtures for the lobu.shared unit tests: a SQLite file per test, metrics, a clean environment."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel

import lobu.shared.inbox
import lobu.shared.outbox  # noqa: F401  (registers the outbox table)
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.metrics import ServiceMetrics
from tests.shared.shared_fakes import effects_metadata


@pytest.fixture(autouse=True)
def _no_lobu_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from the test alone, never from LOBU_* variables of the shell."""
    for name in list(os.environ):
        if name.upper().startswith("LOBU_"):
            monkeypatch.delenv(name)


@pytest_asyncio.fixture(loop_scope="session")
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A fresh SQLite file with the outbox, inbox and test-effects tables."""
    database = create_engine(f"sqlite+aiosqlite:///{tmp_path}/shared.db")
    async with database.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
        await connection.run_sync(effects_metadata.create_all)
    yield database
    await database.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return create_session_factory(engine)


@pytest.fixture
def metrics() -> ServiceMetrics:
    """Metrics in a registry of their own."""
    return ServiceMetrics(service="shared-test")
