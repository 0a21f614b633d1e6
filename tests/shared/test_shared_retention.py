"""The retention job: expired rows go in short batches, by an injected clock, on both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, insert, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.idempotency_keys  # noqa: F401  (registers the table)
from lobu.shared.clock import utc_now
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.inbox import InboxMessage
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.migrations import upgrade_database
from lobu.shared.outbox import OutboxMessage
from lobu.shared.retention import RetentionJob, RetentionRule
from lobu.shared.retention_rules import declare_shared_rules
from lobu.shared.runtime import ServiceRuntime
from lobu.shared.settings import ServiceSettings
from tests.support.postgres_server import PostgresServer
from tests.support.tokens import TEST_AUTH
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = datetime(2026, 5, 15, 8, 0, tzinfo=UTC)
TABLES = [SQLModel.metadata.tables[name] for name in ("outbox", "inbox", "idempotency_keys")]


class FakeClock:
    """A clock the test moves."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture(loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The shared tables on a fresh SQLite file or PostgreSQL database."""
    database = create_engine(database_url)
    async with database.begin() as connection:
        await connection.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=TABLES))
    yield database
    await database.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest_asyncio.fixture(loop_scope="session")
async def pg_engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    """The shared tables on a fresh PostgreSQL database (row locks are PostgreSQL's)."""
    with postgres.database() as url:
        database = create_engine(url)
        async with database.begin() as connection:
            await connection.run_sync(
                lambda sync: SQLModel.metadata.create_all(sync, tables=TABLES)
            )
        yield database
        await database.dispose()


@pytest.fixture
def pg_sessions(pg_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(pg_engine)


@pytest_asyncio.fixture(loop_scope="session")
async def writer(pg_engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions of a second engine: another process writing to the same database."""
    other = create_engine(pg_engine.url.render_as_string(hide_password=False))
    yield create_session_factory(other)
    await other.dispose()


def inbox_rule(period: timedelta = timedelta(days=30)) -> RetentionRule:
    return RetentionRule(
        name="inbox", table=InboxMessage, column=col(InboxMessage.handled_at), period=period
    )


async def add_inbox_rows(
    sessions: async_sessionmaker[AsyncSession], count: int, *, handled_at: datetime, prefix: str
) -> None:
    rows = [
        {"consumer": "c", "event_id": f"{prefix}-{i}", "event_type": "t", "handled_at": handled_at}
        for i in range(count)
    ]
    async with sessions() as session, session.begin():
        await session.execute(insert(InboxMessage), rows)


async def inbox_ids(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return set((await session.scalars(select(col(InboxMessage.event_id)))).all())


def sample(metrics: ServiceMetrics, name: str, table: str) -> float | None:
    return metrics.registry.get_sample_value(name, {"service": metrics.service, "table": table})


async def test_rows_go_once_their_period_has_passed_by_the_injected_clock(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    clock = FakeClock(T0)
    job = RetentionJob(sessions, metrics=metrics, clock=clock, batch_size=10, pause_seconds=0)
    job.declare(inbox_rule(timedelta(days=30)))
    await add_inbox_rows(sessions, 25, handled_at=T0, prefix="old")
    await add_inbox_rows(sessions, 3, handled_at=T0 + timedelta(days=2), prefix="new")

    clock.now = T0 + timedelta(days=30) - timedelta(seconds=1)
    assert await job.run_once() == {"inbox": 0}
    assert len(await inbox_ids(sessions)) == 28

    clock.now = T0 + timedelta(days=30, seconds=1)
    assert await job.run_once() == {"inbox": 25}
    assert await inbox_ids(sessions) == {"new-0", "new-1", "new-2"}
    assert sample(metrics, "lobu_retention_deleted_rows_total", "inbox") == 25
    assert sample(metrics, "lobu_retention_rows", "inbox") == 3
    assert sample(metrics, "lobu_retention_oldest_age_seconds", "inbox") == pytest.approx(
        timedelta(days=28, seconds=1).total_seconds()
    )
    assert sample(metrics, "lobu_retention_period_seconds", "inbox") == 30 * 86400


async def test_unpublished_outbox_rows_never_expire(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    clock = FakeClock(T0 + timedelta(days=400))
    job = RetentionJob(sessions, metrics=metrics, clock=clock, pause_seconds=0)
    declare_shared_rules(job, ServiceSettings(**TEST_AUTH))
    common: dict[str, Any] = {
        "topic": "t",
        "event_type": "t",
        "source": "s",
        "subject": "k",
        "data": {},
    }
    async with sessions() as session, session.begin():
        for event_id, published_at in (("sent", T0), ("waiting", None)):
            session.add(
                OutboxMessage(
                    event_id=event_id, occurred_at=T0, created_at=T0,
                    published_at=published_at, **common,
                )
            )  # fmt: skip

    assert (await job.run_once())["outbox"] == 1
    async with sessions() as session:
        left = (await session.scalars(select(col(OutboxMessage.event_id)))).all()
    assert left == ["waiting"]


async def test_a_condition_decides_without_a_column(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    job = RetentionJob(sessions, metrics=metrics, clock=FakeClock(T0), pause_seconds=0)
    job.declare(
        RetentionRule(
            name="by-consumer",
            table=InboxMessage,
            period=timedelta(days=1),
            condition=lambda _cutoff: col(InboxMessage.event_id).startswith("gone"),
        )
    )
    await add_inbox_rows(sessions, 2, handled_at=T0, prefix="gone")
    await add_inbox_rows(sessions, 2, handled_at=T0, prefix="kept")

    assert await job.run_once() == {"by-consumer": 2}
    assert await inbox_ids(sessions) == {"kept-0", "kept-1"}


async def test_every_batch_commits_on_its_own_and_nothing_is_locked_between_batches(
    pg_sessions: async_sessionmaker[AsyncSession],
    writer: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
) -> None:
    sessions = pg_sessions
    await add_inbox_rows(sessions, 35, handled_at=T0, prefix="old")
    seen: list[int] = []

    async def writer_takes_every_expired_row_without_waiting() -> None:
        # NOWAIT fails at once on a row another transaction holds, e.g. one deleted in
        # a batch that has not committed: between batches there must be none.
        async with writer() as session, session.begin():
            rows = await session.scalars(
                select(col(InboxMessage.event_id))
                .where(col(InboxMessage.handled_at) <= T0)
                .with_for_update(nowait=True)
            )
            seen.append(len(rows.all()))

    job = RetentionJob(
        sessions,
        metrics=metrics,
        clock=FakeClock(T0 + timedelta(days=31)),
        batch_size=10,
        pause_seconds=0,
        between_batches=writer_takes_every_expired_row_without_waiting,
    )
    job.declare(inbox_rule())

    assert await job.run_once() == {"inbox": 35}
    assert seen == [25, 15, 5]  # three pauses after the three full batches of ten


async def test_a_row_a_writer_holds_is_left_for_the_next_run_not_waited_for(
    pg_sessions: async_sessionmaker[AsyncSession],
    writer: async_sessionmaker[AsyncSession],
    metrics: ServiceMetrics,
) -> None:
    sessions = pg_sessions
    await add_inbox_rows(sessions, 5, handled_at=T0, prefix="old")
    job = RetentionJob(
        sessions, metrics=metrics, clock=FakeClock(T0 + timedelta(days=31)), pause_seconds=0
    )
    job.declare(inbox_rule())

    async with writer() as session, session.begin():
        await session.execute(
            text("SELECT 1 FROM inbox WHERE event_id = 'old-3' FOR UPDATE")
        )  # held until this block ends, as a writer's open transaction would
        deleted = await asyncio.wait_for(job.run_once(), timeout=60)
        assert deleted == {"inbox": 4}
    assert await inbox_ids(sessions) == {"old-3"}
    assert await job.run_once() == {"inbox": 1}


async def test_a_failing_table_does_not_stop_the_others(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    job = RetentionJob(sessions, metrics=metrics, clock=FakeClock(T0), pause_seconds=0)
    job.declare(
        RetentionRule(
            name="broken",
            table=InboxMessage,
            period=timedelta(days=1),
            condition=lambda _cutoff: literal_column("no_such_column") == 1,
        )
    )
    job.declare(inbox_rule(timedelta(days=1)))
    await add_inbox_rows(sessions, 2, handled_at=T0 - timedelta(days=2), prefix="old")

    assert await job.run_once() == {"inbox": 2}
    assert sample(metrics, "lobu_retention_failures_total", "broken") == 1
    assert (
        metrics.registry.get_sample_value(
            "lobu_retention_last_run_timestamp_seconds", {"service": metrics.service}
        )
        is None
    )  # the run was not complete


async def test_every_runtime_declares_the_shared_tables_with_the_periods_of_its_settings(
    tmp_path: Path,
) -> None:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/r.db",
        inbox_retention="P45D",
        outbox_retention=3600,
        **TEST_AUTH,
    )
    runtime = ServiceRuntime.create(settings, service="test", migrations="unused")
    periods = {rule.name: rule.period for rule in runtime.retention.rules}
    await runtime.engine.dispose()
    assert periods == {
        "outbox": timedelta(hours=1),
        "inbox": timedelta(days=45),
        "idempotency_keys": timedelta(days=1),
    }


async def test_the_counted_rows_match_the_table(
    sessions: async_sessionmaker[AsyncSession], metrics: ServiceMetrics
) -> None:
    job = RetentionJob(sessions, metrics=metrics, clock=FakeClock(T0), pause_seconds=0)
    job.declare(inbox_rule())
    await add_inbox_rows(sessions, 4, handled_at=T0, prefix="x")
    await job.run_once()
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(InboxMessage))
    assert sample(metrics, "lobu_retention_rows", "inbox") == count == 4
    assert sample(metrics, "lobu_retention_oldest_age_seconds", "inbox") == 0


async def test_a_started_runtime_removes_old_inbox_entries(tmp_path: Path) -> None:
    settings = ServiceSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/service.db",
        kafka_bootstrap_servers="127.0.0.1:1",  # away: retention needs only the database
        **TEST_AUTH,
    )
    runtime = ServiceRuntime.create(
        settings, service="directory", migrations="lobu.directory:migrations"
    )
    await upgrade_database(runtime.engine, runtime.migrations)
    await add_inbox_rows(runtime.sessions, 2, handled_at=utc_now() - timedelta(days=31), prefix="o")
    await add_inbox_rows(runtime.sessions, 1, handled_at=utc_now(), prefix="new")
    await runtime.start()
    try:
        await eventually(
            lambda: _ids_are(runtime.sessions, {"new-0"}), timeout=60, what="old rows gone"
        )
    finally:
        await runtime.stop()


async def _ids_are(sessions: async_sessionmaker[AsyncSession], expected: set[str]) -> bool:
    return await inbox_ids(sessions) == expected
