"""DeliveryDispatcher over real SMTP: the local MailSink, or a port where nobody listens."""

from __future__ import annotations

import asyncio
import email
import email.policy
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.notifications.models  # noqa: F401  # registers the tables with SQLModel.metadata
from lobu.notifications.dispatcher import (
    MAX_BACKOFF_SECONDS,
    DeliveryDispatcher,
    DeliveryMetrics,
    backoff_seconds,
    retry_span_seconds,
)
from lobu.notifications.mailer import OutgoingMail, SmtpMailer
from lobu.notifications.main import create_metrics
from lobu.notifications.models import Delivery
from lobu.notifications.settings import NotificationSettings
from lobu.shared import as_utc, utc_now
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.mailsink import MailSink
from tests.support.ports import free_port
from tests.support.tokens import TEST_AUTH
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]

SUBJECT = "Willkommen im Netzwerk der Lokalen Bündnisse für Familie"
BODY = (
    "Guten Tag Grete Müller,\n\n"
    "das Lokale Bündnis für Familie „Lüneburg“ ist jetzt eingetragen.\n\n"
    "Mit freundlichen Grüßen\nIhr Servicebüro\n"
)
MAX_ATTEMPTS = 3


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    """A fresh SQLite database with the deliveries table."""
    engine = create_engine(database_url(tmp_path))
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def outcomes(registry: CollectorRegistry) -> DeliveryMetrics:
    """The metrics main.py hands the dispatcher, in a registry of the test's own."""
    runtime = SimpleNamespace(metrics=SimpleNamespace(registry=registry))
    return create_metrics(runtime)  # type: ignore[arg-type]


def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/notifications.db"


def dispatcher_for(
    sessions: Sessions,
    outcomes: DeliveryMetrics,
    *,
    smtp_port: int,
    tmp_path: Path,
    **options: Any,
) -> DeliveryDispatcher:
    settings = NotificationSettings(
        smtp_port=smtp_port, database_url=database_url(tmp_path), **TEST_AUTH
    )
    return DeliveryDispatcher(
        sessions,
        options.pop("mailer", None) or SmtpMailer(settings),
        metrics=outcomes,
        max_attempts=MAX_ATTEMPTS,
        poll_seconds=0.05,
        **options,
    )


def count(registry: CollectorRegistry, status: str) -> float:
    value = registry.get_sample_value(
        "lobu_notifications_deliveries_total", {"channel": "email", "status": status}
    )
    return value or 0.0


async def add_delivery(sessions: Sessions, **overrides: Any) -> int:
    values: dict[str, Any] = {
        "event_id": "0b7e5d1c-2f3a-4c5d-9e8f-000000000001",
        "event_type": ALLIANCE_CREATED,
        "alliance_id": "alliance-1",
        "recipient": "grete.mueller@example.org",
        "subject": SUBJECT,
        "body": BODY,
    } | overrides
    async with sessions() as session, session.begin():
        delivery = Delivery(**values)
        session.add(delivery)
        await session.flush()
        assert delivery.id is not None
        return delivery.id


async def load(sessions: Sessions, delivery_id: int) -> Delivery:
    async with sessions() as session:
        delivery = await session.get(Delivery, delivery_id)
    assert delivery is not None
    return delivery


async def make_due(sessions: Sessions, delivery_id: int) -> None:
    """Move the next attempt into the past instead of waiting for the back-off."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .values(next_attempt_at=utc_now() - timedelta(minutes=1))
        )


def read_mail(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.asyncio(loop_scope="session")
async def test_a_pending_delivery_is_sent_as_utf8_mail_and_marked_sent(
    sessions: Sessions,
    outcomes: DeliveryMetrics,
    registry: CollectorRegistry,
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=mail_sink.port, tmp_path=tmp_path)
    delivery_id = await add_delivery(sessions)
    before = utc_now()

    assert await dispatcher.send_due() == 1

    (path,) = mail_sink.messages()
    message = read_mail(path)
    assert message["To"] == "grete.mueller@example.org"
    assert message["X-Lobu-Envelope-To"] == "grete.mueller@example.org"
    assert message["Subject"] == SUBJECT
    assert "Servicebüro" in message["From"]
    assert message.get_content_type() == "text/plain"  # a delivery without an HTML part
    assert message.get_content_charset() == "utf-8"
    assert "Mit freundlichen Grüßen".encode() in path.read_bytes()  # 8-bit UTF-8 on the wire
    assert message.get_content().replace("\r\n", "\n") == BODY  # SMTP lines end in CRLF
    digest = hashlib.sha256(
        b"0b7e5d1c-2f3a-4c5d-9e8f-000000000001:grete.mueller@example.org"
    ).hexdigest()[:32]
    # Python's generator folds the long header onto a continuation line: compare stripped.
    assert message["Message-ID"].strip() == f"<{digest}@lobu.lokale-buendnisse-fuer-familie.de>"
    assert message["Date"]

    delivery = await load(sessions, delivery_id)
    assert delivery.status == "sent"
    assert delivery.attempts == 1
    assert delivery.last_error is None
    assert delivery.sent_at is not None
    assert as_utc(delivery.sent_at) >= before
    assert count(registry, "sent") == 1
    assert count(registry, "retried") == 0
    assert count(registry, "failed") == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_a_sent_delivery_is_not_sent_again(
    sessions: Sessions,
    outcomes: DeliveryMetrics,
    registry: CollectorRegistry,
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=mail_sink.port, tmp_path=tmp_path)
    delivery_id = await add_delivery(sessions)
    assert await dispatcher.send_due() == 1

    await make_due(sessions, delivery_id)  # even when its next attempt looks due
    assert await dispatcher.send_due() == 0

    assert len(mail_sink.messages()) == 1
    assert (await load(sessions, delivery_id)).attempts == 1
    assert count(registry, "sent") == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_several_due_deliveries_are_sent_in_one_round(
    sessions: Sessions, outcomes: DeliveryMetrics, mail_sink: MailSink, tmp_path: Path
) -> None:
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=mail_sink.port, tmp_path=tmp_path)
    recipients = ["a@example.org", "b@example.org", "c@example.org"]
    for recipient in recipients:
        await add_delivery(sessions, recipient=recipient)
    later = await add_delivery(
        sessions, recipient="later@example.org", next_attempt_at=utc_now() + timedelta(hours=1)
    )

    assert await dispatcher.send_due() == 3

    sent_to = sorted(read_mail(path)["To"] for path in mail_sink.messages())
    assert sent_to == recipients
    assert (await load(sessions, later)).status == "pending"
    assert (await load(sessions, later)).attempts == 0


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unreachable_smtp_server_means_retries_with_backoff_then_failed(
    sessions: Sessions, outcomes: DeliveryMetrics, registry: CollectorRegistry, tmp_path: Path
) -> None:
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=free_port(), tmp_path=tmp_path)
    delivery_id = await add_delivery(sessions)

    for attempt in range(1, MAX_ATTEMPTS):
        before = utc_now()
        assert await dispatcher.send_due() == 1

        delivery = await load(sessions, delivery_id)
        assert delivery.status == "retrying"
        assert delivery.attempts == attempt
        assert delivery.last_error
        assert delivery.sent_at is None
        backoff = timedelta(seconds=2 ** (attempt - 1))
        assert as_utc(delivery.next_attempt_at) >= before + backoff
        assert count(registry, "retried") == attempt
        await make_due(sessions, delivery_id)

    assert await dispatcher.send_due() == 1

    delivery = await load(sessions, delivery_id)
    assert delivery.status == "failed"
    assert delivery.attempts == MAX_ATTEMPTS
    assert delivery.last_error
    assert delivery.sent_at is None
    assert count(registry, "failed") == 1
    assert count(registry, "retried") == MAX_ATTEMPTS - 1
    assert count(registry, "sent") == 0

    await make_due(sessions, delivery_id)
    assert await dispatcher.send_due() == 0  # failed is final
    assert (await load(sessions, delivery_id)).attempts == MAX_ATTEMPTS


@pytest.mark.asyncio(loop_scope="session")
async def test_a_delivery_that_failed_once_is_sent_when_smtp_is_back(
    sessions: Sessions,
    outcomes: DeliveryMetrics,
    registry: CollectorRegistry,
    mail_sink: MailSink,
    tmp_path: Path,
) -> None:
    delivery_id = await add_delivery(sessions)
    down = dispatcher_for(sessions, outcomes, smtp_port=free_port(), tmp_path=tmp_path)
    assert await down.send_due() == 1
    assert (await load(sessions, delivery_id)).last_error

    await make_due(sessions, delivery_id)
    up = dispatcher_for(sessions, outcomes, smtp_port=mail_sink.port, tmp_path=tmp_path)
    assert await up.send_due() == 1

    delivery = await load(sessions, delivery_id)
    assert delivery.status == "sent"
    assert delivery.attempts == 2
    assert delivery.last_error is None
    assert len(mail_sink.messages()) == 1
    assert (count(registry, "retried"), count(registry, "sent")) == (1, 1)


class InterruptedMailer(SmtpMailer):
    """Sends the first message for real; the round is cancelled during the second,
    as `DeliveryDispatcher.stop()` cancels a round that is still sending."""

    def __init__(self, settings: NotificationSettings) -> None:
        super().__init__(settings)
        self.calls = 0

    async def send(self, mail: OutgoingMail) -> None:
        self.calls += 1
        if self.calls > 1:
            raise asyncio.CancelledError
        await super().send(mail)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_mail_accepted_before_the_round_is_interrupted_stays_marked_sent(
    sessions: Sessions, outcomes: DeliveryMetrics, mail_sink: MailSink, tmp_path: Path
) -> None:
    settings = NotificationSettings(
        smtp_port=mail_sink.port, database_url=database_url(tmp_path), **TEST_AUTH
    )
    first = await add_delivery(sessions, recipient="first@example.org")
    await add_delivery(sessions, recipient="second@example.org")
    interrupted = DeliveryDispatcher(
        sessions,
        InterruptedMailer(settings),
        metrics=outcomes,
        max_attempts=MAX_ATTEMPTS,
        poll_seconds=0.05,
        concurrency=1,
    )

    with pytest.raises(asyncio.CancelledError):
        await interrupted.send_due()
    assert len(mail_sink.messages()) == 1  # the first mail did go out

    assert (await load(sessions, first)).status == "sent"


@pytest.mark.asyncio(loop_scope="session")
async def test_the_background_loop_sends_what_is_due_and_stops(
    sessions: Sessions, outcomes: DeliveryMetrics, mail_sink: MailSink, tmp_path: Path
) -> None:
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=mail_sink.port, tmp_path=tmp_path)
    delivery_id = await add_delivery(sessions)

    async def sent() -> Delivery | None:
        delivery = await load(sessions, delivery_id)
        return delivery if delivery.status == "sent" else None

    await dispatcher.start()
    try:
        await eventually(sent, interval=0.05, what="the delivery to be sent")
    finally:
        await dispatcher.stop()

    assert len(mail_sink.messages()) == 1
    async with sessions() as session:
        statuses = (await session.scalars(select(col(Delivery.status)))).all()
    assert statuses == ["sent"]


# --- SMTP errors carry addresses: none of them reaches the log (issue 6, defect 9) -----


class RefusingHandler:
    """aiosmtpd handler: refuses every recipient, naming the address as real relays do."""

    def __init__(self, code: int) -> None:
        self.code = code

    async def handle_RCPT(  # noqa: N802
        self, _server: Any, _session: Any, _envelope: Any, address: str, _options: Any
    ) -> str:
        return f"{self.code} 5.1.1 <{address}>: Recipient address rejected: User unknown"


@pytest.fixture(params=[550, 450], ids=["permanent", "temporary"])
def refusing_sink(request: pytest.FixtureRequest) -> Iterator[tuple[int, int]]:
    """An SMTP server on a free port that refuses every recipient; (port, code)."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(RefusingHandler(request.param), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, request.param
    controller.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_refused_recipient_is_recorded_and_logged_without_any_address(
    sessions: Sessions,
    outcomes: DeliveryMetrics,
    refusing_sink: tuple[int, int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port, code = refusing_sink
    dispatcher = dispatcher_for(sessions, outcomes, smtp_port=port, tmp_path=tmp_path)
    delivery_id = await add_delivery(sessions, recipient="josef.oeztuerk@example.org")
    caplog.set_level(logging.INFO)

    for _ in range(MAX_ATTEMPTS):
        await make_due(sessions, delivery_id)
        await dispatcher.send_due()

    delivery = await load(sessions, delivery_id)
    assert delivery.status == "failed"
    # A permanent refusal (5xx) is not tried again; a temporary one (4xx) is.
    assert delivery.attempts == (1 if code >= 500 else MAX_ATTEMPTS)
    assert delivery.last_error is not None
    assert "SMTPRecipientsRefused" in delivery.last_error
    assert str(code) in delivery.last_error
    assert "@" not in delivery.last_error
    assert "oeztuerk" not in delivery.last_error
    # What this process logs; "mail.log" is the refusing test server's own log.
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.name != "mail.log"
    )
    assert "delivery" in logged
    assert "oeztuerk" not in logged
    assert "@example.org" not in logged


def test_the_default_schedule_keeps_trying_for_about_a_day_of_smtp_outage() -> None:
    attempts = NotificationSettings.model_fields["delivery_max_attempts"].default
    span = retry_span_seconds(attempts)
    assert timedelta(hours=23) < timedelta(seconds=span) < timedelta(hours=25)
    waits = [backoff_seconds(attempt) for attempt in range(1, attempts)]
    assert waits[:4] == [1, 2, 4, 8]  # a short hiccup costs seconds
    assert waits == sorted(waits)
    assert max(waits) == MAX_BACKOFF_SECONDS == 15 * 60  # back within 15 min of the relay
