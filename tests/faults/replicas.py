"""Two directory and two notifications processes on PostgreSQL, as replicas behind a balancer.

Each service's replicas share one database (the directory's outbox, the notifications'
deliveries) and the notifications replicas one consumer group. `settle` waits until
everything written so far went through: the outbox published, every record consumed,
no delivery pending or being sent.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS
from tests.support.kafka_probe import caught_up
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess

NOTIFICATIONS_GROUP = "notifications"
TOPICS = [DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS]


@dataclass(frozen=True)
class Mail:
    """One message in the sink."""

    recipient: str
    message_id: str
    stored_at: float  # the file's mtime: when the sink received it


@dataclass
class Replicas:
    """The running replicas and the databases and sink behind them."""

    directories: list[ServiceProcess]
    notifications: list[ServiceProcess]
    mail: MailSink
    bootstrap_servers: str
    directory_db: AsyncEngine
    notifications_db: AsyncEngine
    _read: dict[Path, Mail] = field(default_factory=dict)

    async def active_relay_pid(self) -> int | None:
        """The pid of the directory replica whose relay holds the lease now."""
        async with self.directory_db.connect() as connection:
            name = await connection.scalar(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                    "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                    "AND a.application_name LIKE 'lobu relay directory pid %' "
                    "AND a.datname = current_database()"
                )
            )
        return int(name.rsplit(" ", 1)[1]) if name else None

    def mails(self) -> list[Mail]:
        """Every message the sink holds (parsed once each)."""
        for path in self.mail.messages():
            if path not in self._read:
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                self._read[path] = Mail(
                    str(message["To"]), str(message["Message-ID"]), path.stat().st_mtime
                )
        return list(self._read.values())

    async def settled(self) -> bool:
        """True when the outbox is empty, the group caught up and no delivery is open."""
        async with self.directory_db.connect() as connection:
            backlog = await connection.scalar(
                text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        if backlog:
            return False
        try:
            if not await caught_up(self.bootstrap_servers, NOTIFICATIONS_GROUP, TOPICS):
                return False
        except Exception:
            return False  # a broker still electing leaders
        async with self.notifications_db.connect() as connection:
            open_ = await connection.scalar(
                text("SELECT count(*) FROM deliveries WHERE status IN ('pending', 'sending')")
            )
        return not open_


def _directory(folder: Path, n: int, database: str, bootstrap: str) -> ServiceProcess:
    return ServiceProcess(
        app="lobu.directory.main:create_app",
        port=free_port(),
        env={
            "LOBU_DIRECTORY_DATABASE_URL": database,
            "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LOBU_DIRECTORY_ENVIRONMENT": "development",
            "LOBU_DIRECTORY_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
            "LOBU_DIRECTORY_OUTBOX_POLL_SECONDS": "0.2",
        },
        log_file=folder / f"directory-{n}.log",
    )


def _notifications(
    folder: Path, n: int, database: str, bootstrap: str, smtp_port: int
) -> ServiceProcess:
    return ServiceProcess(
        app="lobu.notifications.main:create_app",
        port=free_port(),
        env={
            "LOBU_NOTIFICATIONS_DATABASE_URL": database,
            "LOBU_NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "LOBU_NOTIFICATIONS_ENVIRONMENT": "development",
            "LOBU_NOTIFICATIONS_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
            "LOBU_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
            "LOBU_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2",
            # A delivery a killed replica had claimed goes out again after this long
            # (300 s by default): with the same Message-ID, a crash copy at most.
            "LOBU_NOTIFICATIONS_DELIVERY_SENDING_LEASE_SECONDS": "20",
        },
        log_file=folder / f"notifications-{n}.log",
    )


@contextmanager
def running_replicas(
    postgres: PostgresServer, bootstrap_servers: str, folder: Path, *, count: int = 2
) -> Iterator[Replicas]:
    """`count` directory and `count` notifications processes on their two databases."""
    sink = MailSink(folder / "mail", port=free_port())
    with ExitStack() as stack:
        directory_url = stack.enter_context(postgres.database("faults_directory"))
        notifications_url = stack.enter_context(postgres.database("faults_notifications"))
        sink.start()
        stack.callback(sink.stop)
        directories = [
            _directory(folder, n, directory_url, bootstrap_servers) for n in range(1, count + 1)
        ]
        notifications = [
            _notifications(folder, n, notifications_url, bootstrap_servers, sink.port)
            for n in range(1, count + 1)
        ]
        # One at a time: the first runs the migrations, the machine has two cores.
        for service in (*directories, *notifications):
            service.start(timeout=240)
            stack.callback(service.stop)
        # No pool: the engines are used from the tests' event loop and need no disposal.
        engines = [
            create_async_engine(url, poolclass=NullPool)
            for url in (directory_url, notifications_url)
        ]
        yield Replicas(
            directories=directories,
            notifications=notifications,
            mail=sink,
            bootstrap_servers=bootstrap_servers,
            directory_db=engines[0],
            notifications_db=engines[1],
        )


def restart(service: ServiceProcess) -> None:
    """Start a killed replica again on its port (waits until it is ready)."""
    service.start(timeout=240)
