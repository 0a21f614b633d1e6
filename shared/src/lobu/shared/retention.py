"""Retention: rows a service no longer needs are deleted after a declared period.

Each service's runtime has one `RetentionJob`. What it deletes is declared, one
`RetentionRule` per table: the table (a SQLModel class or a Table), the period (from
the service's settings), and which rows have expired: those whose timestamp `column`
is older than the period (NULL never expires), narrowed, or decided instead, by a
`condition` that gets the cutoff moment (now minus the period). The runtime declares
the shared tables itself (published outbox rows, the inbox, Idempotency-Keys); a
service adds its own in its composition root:

    runtime.retention.declare(
        RetentionRule(
            name="registrations",
            table=Registration,
            period=settings.participant_retention,
            condition=lambda cutoff: col(Registration.action_id).in_(
                select(col(Action.id)).where(col(Action.ends_at) < cutoff)
            ),
        )
    )

Deleting never blocks writers for long: each batch (`batch_size` rows, 500 by
default) is its own short transaction, chosen by primary key; on PostgreSQL the
batch's rows are picked `FOR UPDATE SKIP LOCKED`, so a row a writer holds is left for
the next run instead of being waited for, and nothing is locked between batches. Two
replicas running at once share the work. The clock is injected (`lobu.shared.clock`),
so tests move time instead of waiting for it.

A rule may `anonymise` instead of delete: the expired rows keep existing with the
declared columns overwritten (e.g. the address of a sent mail), and count in
`lobu_retention_anonymised_rows_total`; their `rows` gauge counts what still holds the
data. Metrics per table: rows deleted (`lobu_retention_deleted_rows_total`), rows kept and
the age of the oldest row by its column (`lobu_retention_rows`,
`lobu_retention_oldest_age_seconds`), the declared period, and the time of the last
complete run (`lobu_retention_last_run_timestamp_seconds`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from prometheus_client import Counter, Gauge
from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    delete,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy import inspect as inspect_model
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.clock import Clock, as_utc, utc_now
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.safe_errors import describe_error

__all__ = ["ExpiryCondition", "RetentionJob", "RetentionMetrics", "RetentionRule"]

logger = logging.getLogger(__name__)

# Rows that have expired, given the cutoff moment (now minus the rule's period).
ExpiryCondition = Callable[[datetime], ColumnElement[bool]]


@dataclass(frozen=True)
class RetentionRule:
    """One table's retention: which rows expire after `period`.

    `column`: a timestamp; a row whose value is older than now minus `period` expires
    (NULL never does), and the oldest value is reported as the table's oldest age.
    `condition`: a further SQL condition of the cutoff; without `column` it decides alone.
    `anonymise`: instead of deleting an expired row, set these columns (name: value)
    and keep the row: a delivery log that still says a mail went out, without the
    address. The values must make the row stop expiring (set `column` to NULL, or
    change what `condition` looks at), else the rule is refused at run time.
    """

    name: str
    table: Any  # a SQLModel table class or a sqlalchemy Table
    period: timedelta
    column: Any = None  # col(Model.timestamp) or a Column
    condition: ExpiryCondition | None = None
    anonymise: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.column is None and self.condition is None:
            raise ValueError(f"retention rule {self.name!r} needs a column or a condition")
        if self.period <= timedelta(0):
            raise ValueError(f"retention rule {self.name!r} needs a positive period")
        if self.anonymise is not None:
            unknown = set(self.anonymise) - set(self.sql_table.columns.keys())
            if not self.anonymise or unknown:
                raise ValueError(
                    f"retention rule {self.name!r} anonymises columns its table lacks: "
                    f"{sorted(unknown) or 'none named'}"
                )

    @property
    def sql_table(self) -> Table:
        """The table the rule deletes from."""
        if isinstance(self.table, Table):
            return self.table
        return cast(Table, inspect_model(self.table).local_table)

    def expired(self, cutoff: datetime) -> ColumnElement[bool]:
        """The condition of the rows that have expired at `cutoff`."""
        parts: list[ColumnElement[bool]] = []
        if self.column is not None:
            parts.append(self.column < cutoff)
        if self.condition is not None:
            parts.append(self.condition(cutoff))
        return and_(*parts)


class RetentionMetrics:
    """The retention job's metrics, in the service's registry."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        registry = metrics.registry
        self.service = metrics.service
        labels = ["service", "table"]
        self.deleted = Counter(
            "lobu_retention_deleted_rows",
            "Rows the retention job deleted, by table.",
            labels,
            registry=registry,
        )
        self.anonymised = Counter(
            "lobu_retention_anonymised_rows",
            "Rows whose personal data the retention job replaced (the row kept), by table.",
            labels,
            registry=registry,
        )
        self.rows = Gauge(
            "lobu_retention_rows",
            "Rows in a table under retention after the last run (what is kept).",
            labels,
            registry=registry,
        )
        self.oldest_age = Gauge(
            "lobu_retention_oldest_age_seconds",
            "Age of the oldest row by the rule's timestamp column after the last run "
            "(0 when none).",
            labels,
            registry=registry,
        )
        self.period = Gauge(
            "lobu_retention_period_seconds",
            "The declared retention period of a table.",
            labels,
            registry=registry,
        )
        self.failures = Counter(
            "lobu_retention_failures",
            "Retention runs of a table that failed (the database away, a lock timeout).",
            labels,
            registry=registry,
        )
        self.last_run = Gauge(
            "lobu_retention_last_run_timestamp_seconds",
            "When the retention job last finished a run over every table (Unix time).",
            ["service"],
            registry=registry,
        )


class RetentionJob:
    """Deletes expired rows of every declared table, periodically, in short batches."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        metrics: ServiceMetrics,
        clock: Clock = utc_now,
        interval_seconds: float = 3600.0,
        batch_size: int = 500,
        pause_seconds: float = 0.05,
        between_batches: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._sessions = sessions
        self._metrics = RetentionMetrics(metrics)
        self._clock = clock
        self._interval = interval_seconds
        self._batch_size = batch_size
        self._pause_seconds = pause_seconds
        self._between_batches = between_batches
        self._rules: dict[str, RetentionRule] = {}
        self._task: asyncio.Task[None] | None = None

    @property
    def rules(self) -> tuple[RetentionRule, ...]:
        """The declared rules, in the order they run."""
        return tuple(self._rules.values())

    def declare(self, rule: RetentionRule) -> None:
        """Add a table's rule; each name (the metrics' `table` label) once."""
        if rule.name in self._rules:
            raise ValueError(f"a retention rule named {rule.name!r} is declared already")
        self._rules[rule.name] = rule
        labels = (self._metrics.service, rule.name)
        self._metrics.period.labels(*labels).set(rule.period.total_seconds())

    def start(self) -> None:
        """Run every `interval_seconds` in the background, the first run at once."""
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        """Stop (a batch in flight rolls back; its rows go in the next run)."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self._interval)

    async def run_once(self) -> dict[str, int]:
        """Delete what has expired in every table now; return the rows deleted per rule.

        A table that fails (logged, counted) does not stop the others.
        """
        deleted: dict[str, int] = {}
        complete = True
        for rule in self.rules:
            try:
                deleted[rule.name] = await self._apply(rule)
                await self._measure(rule)
            except Exception as error:
                complete = False
                self._metrics.failures.labels(self._metrics.service, rule.name).inc()
                logger.warning("retention of %s failed: %s", rule.name, describe_error(error))
        if complete:
            self._metrics.last_run.labels(self._metrics.service).set(self._clock().timestamp())
        if any(deleted.values()):
            logger.info("retention deleted %s", deleted)
        return deleted

    async def _apply(self, rule: RetentionRule) -> int:
        cutoff = as_utc(self._clock()) - rule.period
        total = 0
        counter = self._metrics.anonymised if rule.anonymise else self._metrics.deleted
        # Anonymised rows stay: more updates than rows that expired means they expire again.
        budget = await self._expired_rows(rule, cutoff) if rule.anonymise else None
        while True:
            count = await self._expire_batch(rule, cutoff)
            total += count
            counter.labels(self._metrics.service, rule.name).inc(count)
            if budget is not None and total > budget:
                raise ValueError(
                    f"retention rule {rule.name!r}: anonymised rows still expire; its values "
                    "must set the column to NULL or end its condition"
                )
            if count < self._batch_size:
                return total
            await self._pause()

    async def _expired_rows(self, rule: RetentionRule, cutoff: datetime) -> int:
        table = rule.sql_table
        async with self._sessions() as session:
            statement = select(func.count()).select_from(table).where(rule.expired(cutoff))
            return int((await session.execute(statement)).scalar_one())

    async def _pause(self) -> None:
        # Between batches nothing is locked; the pause lets writers go first.
        if self._between_batches is not None:
            await self._between_batches()
        await asyncio.sleep(self._pause_seconds)

    async def _expire_batch(self, rule: RetentionRule, cutoff: datetime) -> int:
        table = rule.sql_table
        keys = list(table.primary_key.columns)
        chosen = select(*keys).where(rule.expired(cutoff)).limit(self._batch_size)
        async with self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "postgresql":
                # A row a writer holds is left for the next run, never waited for.
                chosen = chosen.with_for_update(skip_locked=True)
            key = tuple_(*keys) if len(keys) > 1 else keys[0]
            if rule.anonymise:
                statement: Any = update(table).where(key.in_(chosen)).values(**rule.anonymise)
            else:
                statement = delete(table).where(key.in_(chosen))
            result = await session.execute(statement)
        return cast(CursorResult[Any], result).rowcount

    async def _measure(self, rule: RetentionRule) -> None:
        table = rule.sql_table
        oldest_of = func.min(rule.column) if rule.column is not None else None
        columns = [func.count(), *([oldest_of] if oldest_of is not None else [])]
        statement = select(*columns).select_from(table)
        if rule.anonymise:  # count what still holds the data
            holding = rule.condition(self._clock()) if rule.condition else rule.column.is_not(None)
            statement = statement.where(holding)
        async with self._sessions() as session:
            row = (await session.execute(statement)).one()
        labels = (self._metrics.service, rule.name)
        self._metrics.rows.labels(*labels).set(row[0])
        oldest = row[1] if len(row) > 1 else None
        age = (self._clock() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
        self._metrics.oldest_age.labels(*labels).set(max(age, 0.0))
