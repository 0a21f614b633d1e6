"""Retention that anonymises instead of deleting: the row stays, its personal data goes.

On both backends, by an injected clock: rows past the period lose the declared columns
and keep the rest; a second run changes nothing; the metrics count them; a rule whose
values would leave the rows expiring for ever is refused instead of looping.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.retention import RetentionJob, RetentionRule

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = datetime(2026, 5, 15, 8, 0, tzinfo=UTC)
METADATA = MetaData()
SENT_MAILS = Table(
    "sent_mails",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("recipient", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("personal_until", DateTime(timezone=True), nullable=True),
)
ERASED = "(gelöscht)"


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine: AsyncEngine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(METADATA.drop_all)
        await connection.run_sync(METADATA.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


def rule(**anonymise: object) -> RetentionRule:
    return RetentionRule(
        name="sent_mails", table=SENT_MAILS, period=timedelta(days=90),
        column=SENT_MAILS.c.personal_until,
        anonymise=anonymise or {"recipient": ERASED, "personal_until": None},
    )  # fmt: skip


async def add(sessions: async_sessionmaker[AsyncSession], count: int, at: datetime) -> None:
    start = int(at.timestamp()) % 100_000
    rows = [
        {"id": start + i, "recipient": f"p{i}@example.org", "subject": "Willkommen",
         "personal_until": at}
        for i in range(count)
    ]  # fmt: skip
    async with sessions() as session, session.begin():
        await session.execute(insert(SENT_MAILS), rows)


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[str, str]]:
    async with sessions() as session:
        found = await session.execute(select(SENT_MAILS.c.recipient, SENT_MAILS.c.subject))
        return sorted((str(a), str(b)) for a, b in found.all())


def sample(metrics: ServiceMetrics, name: str) -> float | None:
    labels = {"service": metrics.service, "table": "sent_mails"}
    return metrics.registry.get_sample_value(name, labels)


async def test_expired_rows_lose_their_personal_data_and_stay(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    clock = FakeClock(T0)
    job = RetentionJob(sessions, metrics=metrics, clock=clock, batch_size=4, pause_seconds=0)
    job.declare(rule())
    await add(sessions, 9, T0)
    await add(sessions, 2, T0 + timedelta(days=10))

    clock.now = T0 + timedelta(days=90) - timedelta(seconds=1)
    assert await job.run_once() == {"sent_mails": 0}
    clock.now = T0 + timedelta(days=91)
    assert await job.run_once() == {"sent_mails": 9}
    kept = await rows(sessions)
    assert len(kept) == 11  # nothing deleted
    assert [recipient for recipient, _ in kept].count(ERASED) == 9
    assert all(subject == "Willkommen" for _, subject in kept)
    assert await job.run_once() == {"sent_mails": 0}  # anonymised rows never expire again
    assert sample(metrics, "lobu_retention_anonymised_rows_total") == 9
    assert sample(metrics, "lobu_retention_deleted_rows_total") in (None, 0)
    assert sample(metrics, "lobu_retention_rows") == 2  # the rows still holding an address


async def test_a_rule_whose_rows_would_expire_for_ever_is_refused(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    clock = FakeClock(T0 + timedelta(days=365))
    job = RetentionJob(sessions, metrics=metrics, clock=clock, batch_size=3, pause_seconds=0)
    job.declare(rule(recipient=ERASED))  # personal_until stays: the rows stay expired
    await add(sessions, 7, T0)
    assert await job.run_once() == {}  # the rule failed (logged, counted), nothing looped
    assert sample(metrics, "lobu_retention_failures_total") == 1


def test_a_rule_naming_a_column_its_table_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks"):
        rule(address=None)
