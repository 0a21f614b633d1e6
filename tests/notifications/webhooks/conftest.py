"""Fixtures of the webhook tests: a fresh SQLite database, real receivers, a clock the
test moves, and the sender's metrics (the helpers behind them: webhook_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.notifications.webhooks.webhook_receiver import Receivers, running_receivers
from tests.notifications.webhooks.webhook_support import (
    Clock,
    Metrics,
    Sessions,
    new_metrics,
    sqlite_sessions,
)


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    async for each in sqlite_sessions(f"sqlite+aiosqlite:///{tmp_path}/notifications.db"):
        yield each


@pytest_asyncio.fixture(loop_scope="session")
async def receivers() -> AsyncIterator[Receivers]:
    async with running_receivers() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def metrics() -> Metrics:
    return new_metrics()
