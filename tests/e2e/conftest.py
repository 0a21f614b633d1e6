"""The platform as `make run` starts it: directory and notifications as processes."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from lobu.shared.auth import Role, create_token
from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess


@dataclass
class Platform:
    """The running services and where to look at their effects."""

    directory: ServiceProcess
    notifications: ServiceProcess
    mail: MailSink
    kafka: KafkaServer

    @property
    def admin_headers(self) -> dict[str, str]:
        """Authorization for Servicebüro staff."""
        token = create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)
        return {"Authorization": f"Bearer {token}"}

    def mails_to(self, recipient: str) -> list[EmailMessage]:
        """The messages the sink holds for `recipient`."""
        found = []
        for path in self.mail.messages():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == recipient:
                found.append(message)  # type: ignore[arg-type]
        return found


@pytest.fixture(scope="module")
def platform(
    kafka: KafkaServer, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """Directory and notifications with their own PostgreSQL databases, real Kafka, SMTP sink."""
    folder: Path = tmp_path_factory.mktemp("platform")
    sink = MailSink(folder / "mail", port=free_port())
    with ExitStack() as stack:
        directory_db = stack.enter_context(postgres.database("directory"))
        notifications_db = stack.enter_context(postgres.database("notifications"))
        sink.start()
        stack.callback(sink.stop)
        directory = ServiceProcess(
            app="lobu.directory.main:create_app",
            port=free_port(),
            env={
                "LOBU_DIRECTORY_DATABASE_URL": directory_db,
                "LOBU_DIRECTORY_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "LOBU_DIRECTORY_ENVIRONMENT": "development",  # as make run
                "LOBU_DIRECTORY_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "LOBU_DIRECTORY_OUTBOX_POLL_SECONDS": "0.2",
            },
            log_file=folder / "directory.log",
        )
        notifications = ServiceProcess(
            app="lobu.notifications.main:create_app",
            port=free_port(),
            env={
                "LOBU_NOTIFICATIONS_DATABASE_URL": notifications_db,
                "LOBU_NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "LOBU_NOTIFICATIONS_ENVIRONMENT": "development",  # as make run
                "LOBU_NOTIFICATIONS_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "LOBU_NOTIFICATIONS_SMTP_PORT": str(sink.port),
                "LOBU_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2",
            },
            log_file=folder / "notifications.log",
        )
        for service in (directory, notifications):
            service.start()
            stack.callback(service.stop)
        yield Platform(directory=directory, notifications=notifications, mail=sink, kafka=kafka)
