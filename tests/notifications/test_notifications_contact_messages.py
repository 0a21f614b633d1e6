"""A citizen's message to an alliance: one mail per contact through a real SMTP
conversation, Reply-To the sender, and its text deleted from the delivery log once sent,
or after the retention period when it could not be sent. On SQLite, in-process.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.contact_mails import ContactMessageMails
from lobu.notifications.dispatcher import DeliveryDispatcher, DeliveryMetrics
from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.main import create_app, create_metrics
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery
from lobu.notifications.notifier import Notifier
from lobu.notifications.retention import PersonalDataRetention
from lobu.notifications.settings import NotificationSettings
from lobu.shared import Envelope
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    CONTACT_MESSAGE_SUBMITTED,
    AllianceContactsChanged,
    ContactMessageSubmitted,
    ContactPerson,
)
from lobu.shared.mailsink import MailSink
from tests.notifications.conftest import SERVICEBUERO, SettingsFactory, links_for, reactions_for
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ALLIANCE = "00000000-0000-4000-8000-00000000c0de"
GRETE = ContactPerson(name="Grete Müller", email="grete@example.org", role="Koordination")
HANS = ContactPerson(name="Hans Meier", email="hans@example.org")
SENDER = "max.buerger@example.de"
TEXT = "Guten Tag,\nwann trifft sich das Bündnis? <b>Danke</b> & Gruß"


@dataclass
class Service:
    settings: NotificationSettings
    sessions: async_sessionmaker[AsyncSession]
    mails: ContactMessageMails

    async def handle(self, *envelopes: Envelope) -> None:
        """Each event in its own transaction, as the consumer does."""
        handlers = {
            ALLIANCE_CONTACTS_CHANGED: reactions_for(self.settings).on_contacts_changed,
            CONTACT_MESSAGE_SUBMITTED: self.mails.on_contact_message,
        }
        for envelope in envelopes:
            async with self.sessions() as session, session.begin():
                await handlers[envelope.type](session, envelope)

    def dispatcher(self, now: datetime, *, smtp_port: int) -> DeliveryDispatcher:
        runtime = SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))
        metrics: DeliveryMetrics = create_metrics(runtime)  # type: ignore[arg-type]
        settings = self.settings.model_copy(update={"smtp_port": smtp_port})
        return DeliveryDispatcher(
            self.sessions, SmtpMailer(settings), metrics=metrics, max_attempts=2,
            poll_seconds=0.05, clock=lambda: now,
            retention=PersonalDataRetention(self.sessions, days=7),
        )  # fmt: skip

    async def deliveries(self, event_id: str) -> list[Delivery]:
        async with self.sessions() as session:
            query = select(Delivery).where(col(Delivery.event_id) == event_id)
            return list((await session.scalars(query.order_by(col(Delivery.recipient)))).all())


@pytest_asyncio.fixture(loop_scope="session")
async def service(tmp_path: Path, notification_settings: SettingsFactory) -> AsyncIterator[Service]:
    settings = notification_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db", delivery_poll_seconds=3600
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        notifier = Notifier(MessageRenderer(), links_for(settings))
        mails = ContactMessageMails(notifier, servicebuero_address=SERVICEBUERO, retention_days=7)
        yield Service(settings, app.state.runtime.sessions, mails)


def contacts_event(people: list[ContactPerson]) -> Envelope:
    data = AllianceContactsChanged(alliance_id=ALLIANCE, version=1, contacts=people)
    return Envelope(type=ALLIANCE_CONTACTS_CHANGED, source="/lobu/directory", subject=ALLIANCE,
                    data=data.model_dump(mode="json"))  # fmt: skip


def message_event(submitted_at: datetime, alliance_id: str = ALLIANCE) -> Envelope:
    data = ContactMessageSubmitted(
        message_id="m-1", alliance_id=alliance_id, alliance_name="Lokales Bündnis Goslar",
        sender_name="Max Bürger", sender_email=SENDER, message=TEXT, submitted_at=submitted_at,
    )  # fmt: skip
    return Envelope(type=CONTACT_MESSAGE_SUBMITTED, source="/lobu/directory",
                    subject=alliance_id, data=data.model_dump(mode="json"))  # fmt: skip


def received(sink: MailSink) -> list[EmailMessage]:
    found = []
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return sorted(found, key=lambda message: str(message["To"]))


async def test_each_contact_gets_the_message_with_reply_to_the_sender_then_it_is_deleted(
    service: Service, mail_sink: MailSink
) -> None:
    now = datetime.now(UTC)
    message = message_event(now)
    await service.handle(contacts_event([GRETE, HANS]), message, message)  # twice: once each

    await service.dispatcher(now + timedelta(seconds=1), smtp_port=mail_sink.port).run_once()

    grete, hans = received(mail_sink)
    assert (grete["To"], hans["To"]) == (GRETE.email, HANS.email)
    for mail in (grete, hans):
        assert mail["Reply-To"] == SENDER
        plain = mail.get_body(preferencelist=("plain",))
        html = mail.get_body(preferencelist=("html",))
        assert plain is not None
        assert html is not None
        assert TEXT in plain.get_content().replace("\r\n", "\n")
        assert "&lt;b&gt;Danke&lt;/b&gt; &amp; Gruß" in html.get_content()
        # One contact never learns the other's address.
        other = HANS.email if mail is grete else GRETE.email
        assert other not in mail.as_string()
    greeting = grete.get_body(preferencelist=("plain",))
    assert greeting is not None
    assert greeting.get_content().startswith("Guten Tag Grete Müller,")
    rows = await service.deliveries(message.id)
    assert [row.status for row in rows] == ["sent", "sent"]
    assert [(row.body, row.html_body, row.reply_to) for row in rows] == [("", None, None)] * 2
    assert all("Max" not in row.subject for row in rows)


async def test_an_undeliverable_message_is_cancelled_and_deleted_after_the_retention(
    service: Service,
) -> None:
    submitted = datetime.now(UTC)
    message = message_event(submitted, alliance_id="00000000-0000-4000-8000-0000000000ff")
    await service.handle(message)  # no contacts known: to the Servicebüro's mailbox
    closed_port = free_port()  # nothing listens: every attempt fails

    await service.dispatcher(submitted + timedelta(seconds=1), smtp_port=closed_port).run_once()
    [row] = await service.deliveries(message.id)
    assert row.recipient == SERVICEBUERO
    assert row.status == "retrying"
    assert "keine Ansprechperson hinterlegt" in row.body
    assert row.reply_to == SENDER

    later = submitted + timedelta(days=7, seconds=1)
    await service.dispatcher(later, smtp_port=closed_port).run_once()
    [row] = await service.deliveries(message.id)
    assert row.status == "cancelled"
    assert (row.body, row.html_body, row.reply_to, row.personal_until) == ("", None, None, None)
    assert row.last_error == "not delivered within 7 days; message deleted"
