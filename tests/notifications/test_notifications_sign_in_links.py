"""A sign-in link: one mail through a real SMTP conversation to the address that asked,
the link on its own line and its expiry in Berlin time; its body erased from the
delivery log once sent, or cancelled and erased unsent once the link expired; one
mail however often the event comes; neither address nor link in the logs. SQLite.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.dispatcher import DeliveryDispatcher, DeliveryMetrics
from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.main import create_app, create_metrics
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery
from lobu.notifications.notifier import Notifier
from lobu.notifications.retention import PersonalDataRetention
from lobu.notifications.routing import Category, routes_for
from lobu.notifications.settings import NotificationSettings
from lobu.notifications.sign_in_mails import SignInLinkMails
from lobu.shared import Envelope
from lobu.shared.contracts.directory import SIGN_IN_LINK_REQUESTED, SignInLinkRequested
from lobu.shared.mailsink import MailSink
from tests.notifications.conftest import SettingsFactory, links_for
from tests.support.ports import free_port
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

PERSON = "Grete.Mueller@Example.org"
LINK = "http://127.0.0.1:8001/anmelden/Zx9-secret-token_4711"
# 13:35 UTC in December is 14:35 in Berlin.
EXPIRES = datetime(2026, 12, 2, 13, 35, tzinfo=UTC)


@dataclass
class Service:
    sessions: async_sessionmaker[AsyncSession]
    mails: SignInLinkMails
    settings: NotificationSettings

    async def handle(self, *envelopes: Envelope) -> None:
        """Each event in its own transaction, as the consumer does."""
        for envelope in envelopes:
            async with self.sessions() as session, session.begin():
                await self.mails.on_sign_in_link(session, envelope)

    def dispatcher(self, now: datetime, *, smtp_port: int) -> DeliveryDispatcher:
        runtime = SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))
        metrics: DeliveryMetrics = create_metrics(runtime)  # type: ignore[arg-type]
        settings = self.settings.model_copy(update={"smtp_port": smtp_port})
        return DeliveryDispatcher(
            self.sessions, SmtpMailer(settings), metrics=metrics, max_attempts=8,
            poll_seconds=0.05, clock=lambda: now,
            retention=PersonalDataRetention(self.sessions, days=7),
        )  # fmt: skip

    async def deliveries(self, event_id: str) -> list[Delivery]:
        async with self.sessions() as session:
            query = select(Delivery).where(col(Delivery.event_id) == event_id)
            return list((await session.scalars(query)).all())


@pytest_asyncio.fixture(loop_scope="session")
async def service(tmp_path: Path, notification_settings: SettingsFactory) -> AsyncIterator[Service]:
    # The app's own dispatcher tries once at start: at a closed port, never a real relay.
    settings = notification_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db", delivery_poll_seconds=3600,
        smtp_port=free_port(),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        mails = SignInLinkMails(Notifier(MessageRenderer(), links_for(settings)))
        yield Service(app.state.runtime.sessions, mails, settings)


def link_event(expires: datetime, *, staff: bool = False, names: tuple[str, ...] = ()) -> Envelope:
    data = SignInLinkRequested(
        request_id="r-1", email=PERSON, link=LINK, expires_at=expires,
        requested_at=expires - timedelta(minutes=15), staff=staff, alliance_names=list(names),
    )  # fmt: skip
    return Envelope(type=SIGN_IN_LINK_REQUESTED, source="/lobu/directory",
                    subject="r-1", data=data.model_dump(mode="json"))  # fmt: skip


def received(sink: MailSink) -> list[EmailMessage]:
    found = []
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


@pytest.mark.asyncio(loop_scope="session")  # the module's mark, for one synchronous test
async def test_the_route_is_transactional_and_never_bundled() -> None:
    (route,) = routes_for(SIGN_IN_LINK_REQUESTED)
    assert route.template == "sign_in_link"
    assert route.category is Category.TRANSACTIONAL
    assert route.digest_summary is None


async def test_one_mail_with_the_link_then_its_body_is_erased_and_nothing_logged(
    service: Service, mail_sink: MailSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=15)
    event = link_event(expires, names=("Lokales Bündnis Goslar",))
    await service.handle(event, event)  # redelivered: still one mail
    sent_at = datetime.now(UTC) + timedelta(minutes=6)  # past the lease of the app's own try

    dispatcher = service.dispatcher(sent_at, smtp_port=mail_sink.port)

    async def sent() -> bool:
        # The app's own dispatcher may hold the delivery for its one try at the closed
        # port; once that failed (retry in 1 s), this one, six minutes on by its clock, sends.
        await dispatcher.run_once()
        return bool(received(mail_sink))

    await eventually(sent, timeout=30, what="the sign-in mail")
    [mail] = received(mail_sink)
    assert mail["To"] == PERSON.lower()
    assert mail["Subject"] == "Ihr Anmeldelink für die Lokalen Bündnisse für Familie"
    assert mail["Reply-To"] is None
    plain = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    text = plain.get_content().replace("\r\n", "\n")
    assert f"\n{LINK}\n" in text
    local = expires.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
    assert f"gültig bis {local} Uhr, nur einmal verwendbar" in text
    assert "ignorieren Sie diese E-Mail" in text
    assert "Lokales Bündnis Goslar" in text
    assert "List-Unsubscribe" not in mail  # transactional: nothing to opt out of
    assert f'href="{LINK}"' in html.get_content()
    [row] = await service.deliveries(event.id)
    assert row.status == "sent"
    assert (row.body, row.html_body, row.personal_until) == ("", None, None)
    # Everything the service logged (the SMTP sink's own log, the mailbox, aside).
    ours = [record for record in caplog.records if not record.name.startswith("mail.log")]
    logged = "\n".join(f"{record.getMessage()} {record.args}" for record in ours).lower()
    assert LINK.lower() not in logged
    assert "secret-token" not in logged
    assert PERSON.lower() not in logged


async def test_a_staff_link_says_so(notification_settings: SettingsFactory) -> None:
    notifier = Notifier(MessageRenderer(), links_for(notification_settings()))
    values = SignInLinkMails(notifier).values(
        SignInLinkRequested.model_validate(link_event(EXPIRES, staff=True).data)
    )
    assert values["valid_until"] == "14:35"
    text = MessageRenderer().render("sign_in_link", values, reason="r", unsubscribe_url=None).text
    assert "Mitarbeiter des Servicebüros" in text


async def test_a_link_not_sent_before_it_expires_is_cancelled_and_erased(
    service: Service,
) -> None:
    expires = datetime.now(UTC) + timedelta(minutes=15)
    event = link_event(expires)
    await service.handle(event)
    closed_port = free_port()  # nothing listens: every attempt fails

    soon = datetime.now(UTC) + timedelta(minutes=6)
    await service.dispatcher(soon, smtp_port=closed_port).run_once()
    [row] = await service.deliveries(event.id)
    assert row.status == "retrying"
    assert LINK in row.body

    await service.dispatcher(expires + timedelta(seconds=1), smtp_port=closed_port).run_once()
    [row] = await service.deliveries(event.id)
    assert row.status == "cancelled"
    assert (row.body, row.html_body, row.personal_until) == ("", None, None)
    assert row.last_error == "not delivered before the link expired; message deleted"
