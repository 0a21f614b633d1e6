"""Which replica's outbox relay publishes: a PostgreSQL advisory lock on its own connection.

With several replicas on one PostgreSQL database, exactly one relay is *active*: the one
whose dedicated connection holds the session-level advisory lock `RELAY_LEASE_KEY`. The
others are standbys that try to take the lock every `heartbeat_seconds` (and before
each round). The lock lives as long as the connection:

- a replica that exits or is killed (SIGKILL) closes its socket, PostgreSQL drops the
  lock at once, and a standby takes over on its next try (within a second or two);
- a replica that hangs (SIGSTOP, a frozen event loop) stops its heartbeat, and
  PostgreSQL ends the idle connection after `idle_seconds` (`idle_session_timeout`);
- a replica cut off from PostgreSQL loses the connection to server-side TCP
  keepalives after about the same time.

The active relay checks its connection before each round (a `SELECT 1`); when the check
fails it stops publishing at once and becomes a standby. The connection has its own
engine without a pool, so the lease never takes a connection from the service's pool,
and it carries `application_name = "lobu relay <service> pid <pid>"` so that
`pg_locks`/`pg_stat_activity` show which process is active. On SQLite (one process per
database file) every relay is active and no connection is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from lobu.shared.metrics import ServiceMetrics

logger = logging.getLogger(__name__)

# pg_try_advisory_lock key of "the active outbox relay of this database" ("lobu" + 2).
RELAY_LEASE_KEY = 0x6C6F_6275_0002


class RelayLease:
    """Holds (or waits for) the right to publish this database's outbox."""

    def __init__(
        self,
        engine: AsyncEngine | None,
        *,
        metrics: ServiceMetrics,
        heartbeat_seconds: float = 1.0,
        idle_seconds: int = 10,
    ) -> None:
        self._postgres = engine is not None and engine.dialect.name == "postgresql"
        self._engine: AsyncEngine | None = None
        if engine is not None and self._postgres:
            self._engine = create_async_engine(
                engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT", hide_parameters=True
            )
        self._metrics = metrics
        self._heartbeat = heartbeat_seconds
        self._idle_seconds = idle_seconds
        self._connection: AsyncConnection | None = None
        self._active = not self._postgres
        self._guard = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._on_acquired: Callable[[], None] | None = None
        self._set_gauge()

    @property
    def active(self) -> bool:
        """True while this replica's relay may publish (as of the last check)."""
        return self._active

    def start(self, on_acquired: Callable[[], None] | None = None) -> None:
        """Keep the lease fresh (active) or keep trying for it (standby) in the background."""
        self._on_acquired = on_acquired
        if self._postgres:
            self._task = asyncio.create_task(self._keep(), name="outbox-relay-lease")

    async def hold(self) -> bool:
        """Check or take the lease now; True when this replica is the active relay."""
        if not self._postgres:
            return True
        async with self._guard:
            was_active = self._active
            try:
                if self._connection is None:
                    self._connection = await self._connect()
                if self._active:
                    await self._connection.execute(text("SELECT 1"))
                else:
                    taken = await self._connection.scalar(
                        text("SELECT pg_try_advisory_lock(:key)"), {"key": RELAY_LEASE_KEY}
                    )
                    self._active = bool(taken)
            except Exception as error:
                self._active = False
                await self._drop()
                if was_active:
                    logger.warning(
                        "this replica is no longer the active outbox relay (lease "
                        "connection lost: %s); it stops publishing and stands by",
                        error.__class__.__name__,
                    )
                else:
                    logger.debug("cannot try for the outbox relay lease", exc_info=True)
            if self._active and not was_active:
                logger.info(
                    "this replica is the active outbox relay (advisory lock %#x, pid %d)",
                    RELAY_LEASE_KEY, os.getpid(),
                )  # fmt: skip
                if self._on_acquired is not None:
                    self._on_acquired()
            self._set_gauge()
            return self._active

    async def stop(self) -> None:
        """Stop the heartbeat and give the lease up, so that a standby takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        async with self._guard:
            if self._active and self._connection is not None:
                with contextlib.suppress(Exception):
                    await self._connection.execute(
                        text("SELECT pg_advisory_unlock(:key)"), {"key": RELAY_LEASE_KEY}
                    )
                logger.info("this replica gave up the active outbox relay (stopping)")
            self._active = not self._postgres
            await self._drop()
            self._set_gauge()
        if self._engine is not None:
            await self._engine.dispose()

    async def _keep(self) -> None:
        while True:
            await self.hold()
            await asyncio.sleep(self._heartbeat)

    async def _connect(self) -> AsyncConnection:
        assert self._engine is not None
        connection = await self._engine.connect()
        name = f"lobu relay {self._metrics.service} pid {os.getpid()}"[:63]
        # A hung holder stops its heartbeat: PostgreSQL ends the idle session (and the
        # lock) after idle_seconds; keepalives do the same for a holder cut off.
        for setting, value in (
            ("application_name", name),
            ("idle_session_timeout", f"{self._idle_seconds}s"),
            ("tcp_keepalives_idle", str(max(1, self._idle_seconds // 2))),
            ("tcp_keepalives_interval", "1"),
            ("tcp_keepalives_count", "3"),
        ):
            await connection.execute(
                text("SELECT set_config(:setting, :value, false)"),
                {"setting": setting, "value": value},
            )
        return connection

    async def _drop(self) -> None:
        if self._connection is None:
            return
        connection, self._connection = self._connection, None
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()

    def _set_gauge(self) -> None:
        self._metrics.outbox_relay_active.labels(self._metrics.service).set(int(self._active))
