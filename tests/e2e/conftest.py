"""The platform as `make run` starts it: directory and notifications as processes.

The end-to-end tests have a broker of their own: on the session's broker, earlier
tests leave thousands of alliances, and a fresh service would read (and, for a survey,
invite) them all before it reached the test's own. One platform serves the package
(each test makes its own alliances). Tests
never sleep to see "that nothing more came": `Platform.settle` waits until every
event written so far was published, consumed and its mail sent.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from lobu.shared.auth import Role, create_token
from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS
from tests.support.kafka_probe import caught_up, read_topic
from tests.support.kafka_server import KafkaServer, kafka_server
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

NOTIFICATIONS_GROUP = "notifications"


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

    async def settle(self, *, timeout: float = 90.0) -> None:
        """Wait until all written so far is published, consumed, and its mail sent or failed.

        A marker alliance (no contacts, so no mail) goes through the outbox last: once it
        is on the topic, the relay (which keeps the outbox's order) has published every
        earlier event. Then the notifications group must have committed every record on
        both topics, and no delivery may be pending.
        """
        async with httpx.AsyncClient(base_url=self.directory.url, timeout=30) as client:
            marker = await client.post(
                "/alliances",
                json={"name": f"Markierung {uuid.uuid4().hex[:8]}", "state": "BE",
                      "postal_code": "10115", "city": "Berlin"},
                headers=self.admin_headers,
            )  # fmt: skip
        assert marker.status_code == 201, marker.text
        key = str(marker.json()["id"]).encode()
        await read_topic(
            self.kafka.bootstrap_servers, DIRECTORY_ALLIANCE, timeout=timeout,
            until=lambda records: any(record.key == key for record in records),
        )  # fmt: skip
        topics = [DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS]
        await eventually(
            lambda: caught_up(self.kafka.bootstrap_servers, NOTIFICATIONS_GROUP, topics),
            timeout=timeout, what="notifications to consume every record",
        )  # fmt: skip
        await eventually(self._nothing_pending, timeout=timeout, what="no pending delivery")

    async def _nothing_pending(self) -> bool:
        async with httpx.AsyncClient(base_url=self.notifications.url, timeout=30) as client:
            response = await client.get(
                "/deliveries", params={"status": "pending", "limit": 1},
                headers=self.admin_headers,
            )  # fmt: skip
        response.raise_for_status()
        return bool(response.json()["items"] == [])


@pytest.fixture(scope="package")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A real broker for the end-to-end tests alone (this overrides the session's)."""
    with kafka_server(tmp_path_factory.mktemp("kafka-e2e")) as server:
        yield server


@pytest.fixture(scope="package")
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
        # Should the broker be shared (KAFKA_BOOTSTRAP_SERVERS), earlier tests leave
        # records on the topics; a fresh group reads them all first. Tests start after.
        topics = [DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS]
        asyncio.run(
            eventually(
                lambda: caught_up(kafka.bootstrap_servers, NOTIFICATIONS_GROUP, topics),
                timeout=600, interval=1,
                what="notifications to catch up with the records earlier tests left",
            )
        )  # fmt: skip
        yield Platform(directory=directory, notifications=notifications, mail=sink, kafka=kafka)
