"""Notifications from event to mailbox on SQLite, with the real SMTP sink: one mail per
(event, recipient, channel), retries on an injected clock, SMTP down then up, a killed
sender, unsubscribe (one click and the page), digests, manual retry, never blocking.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.notifications.consumers import alliance_handlers
from lobu.notifications.digest import DigestComposer
from lobu.notifications.dispatcher import DeliveryDispatcher, DeliveryMetrics
from lobu.notifications.mailer import MailerProto, OutgoingMail, SmtpMailer, message_id
from lobu.notifications.main import create_app, create_metrics
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery, DigestItem
from lobu.notifications.preferences import DeliveryMode, mode_of, set_mode
from lobu.notifications.routing import Category
from lobu.notifications.service import AllianceReactions
from lobu.notifications.settings import NotificationSettings
from lobu.shared import Envelope
from lobu.shared.auth import Role, create_token
from lobu.shared.consumer import ReliableConsumer
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    AllianceContactsChanged,
    AllianceCreated,
    ContactPerson,
)
from lobu.shared.envelope import KafkaRecord, to_kafka_record
from lobu.shared.mailsink import MailSink
from lobu.shared.metrics import ServiceMetrics
from tests.notifications.conftest import SERVICEBUERO, SettingsFactory, links_for, reactions_for
from tests.support.ports import free_port
from tests.support.tokens import TEST_JWT_SECRET
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]
SOURCE = "/lobu/directory"
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
GRETE = ContactPerson(name="Grete Müller", email="grete.mueller@example.org")
ADMIN = {"Authorization": "Bearer " + create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN)}


class Clock:
    """An injected clock that only moves when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def created(number: int = 1) -> Envelope:
    alliance_id = f"00000000-0000-4000-8000-{number:012d}"
    data = AllianceCreated(
        id=alliance_id,
        slug=f"buendnis-{number}",
        name=f"Bündnis für Familie Nummer {number}",
        state="NI",
        postal_code="21335",
        city="Lüneburg",
        version=1,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    return Envelope(
        type=ALLIANCE_CREATED, source=SOURCE, subject=alliance_id, data=data.model_dump(mode="json")
    )


def contacts(of: Envelope, people: list[ContactPerson]) -> Envelope:
    data = AllianceContactsChanged(alliance_id=of.subject or "", version=1, contacts=people)
    return Envelope(
        type=ALLIANCE_CONTACTS_CHANGED,
        source=SOURCE,
        subject=of.subject,
        data=data.model_dump(mode="json"),
    )


@dataclass
class Notifications:
    """The service's parts as main.py wires them, on one SQLite database."""

    settings: NotificationSettings
    app: FastAPI
    sessions: Sessions
    reactions: AllianceReactions
    registry: CollectorRegistry

    async def deliver(self, *envelopes: Envelope) -> None:
        """Handle each event in its own transaction, as the consumer does."""
        handlers = alliance_handlers(self.reactions)
        for envelope in envelopes:
            async with self.sessions() as session, session.begin():
                await handlers[envelope.type](session, envelope)

    def dispatcher(
        self, clock: Clock, *, mailer: MailerProto | None = None, **options: Any
    ) -> DeliveryDispatcher:
        runtime = SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))
        metrics: DeliveryMetrics = create_metrics(runtime)  # type: ignore[arg-type]
        return DeliveryDispatcher(
            self.sessions,
            mailer or SmtpMailer(self.settings),
            metrics=metrics,
            max_attempts=options.pop("max_attempts", 4),
            poll_seconds=0.05,
            clock=clock,
            **options,
        )

    async def deliveries(self, **where: Any) -> list[Delivery]:
        query = select(Delivery).order_by(col(Delivery.id))
        for name, value in where.items():
            query = query.where(getattr(Delivery, name) == value)
        async with self.sessions() as session:
            return list((await session.scalars(query)).all())


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest_asyncio.fixture(loop_scope="session")
async def notifications(
    tmp_path: Path, notification_settings: SettingsFactory, smtp_port: int
) -> AsyncIterator[Notifications]:
    """The app started (migrations run); its own dispatcher idles (polls once an hour)."""
    settings = notification_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/n.db",
        smtp_port=smtp_port,
        delivery_poll_seconds=3600,
        smtp_timeout_seconds=5,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        sessions = app.state.runtime.sessions
        yield Notifications(
            settings=settings,
            app=app,
            sessions=sessions,
            reactions=reactions_for(settings),
            registry=app.state.runtime.metrics.registry,
        )


@pytest.fixture
def sink(tmp_path: Path, smtp_port: int) -> Iterator[MailSink]:
    """The SMTP sink on the port the service sends to."""
    server = MailSink(tmp_path / "mail", port=smtp_port)
    server.start()
    yield server
    server.stop()


def mails(sink: MailSink, to: str | None = None) -> list[EmailMessage]:
    found = []
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        if to is None or message["To"] == to:
            found.append(message)
    return found


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


# The injected clock starts just after the deliveries were written (at the real now).
def start() -> datetime:
    """A minute from now, read when a test runs (not at import: a long suite's import is
    many minutes before this test, and mail written now must be due on the clock)."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)


# --- exactly one message per (event, recipient, channel) --------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_duplicate_events_and_a_killed_consumer_give_one_mail_each(
    notifications: Notifications, sink: MailSink
) -> None:
    event, people = created(), contacts(created(), [GRETE])
    consumer = ReliableConsumer(
        name="notifications",
        sessions=notifications.sessions,
        handlers=alliance_handlers(notifications.reactions),
        publish=_no_dead_letters,
        metrics=ServiceMetrics(service="notifications"),
    )

    # A consumer killed after its handler ran, before the commit: nothing stays.
    class Killed(BaseException):
        pass

    async def dies_after_handling(session: AsyncSession, envelope: Envelope) -> None:
        await alliance_handlers(notifications.reactions)[envelope.type](session, envelope)
        raise Killed

    killed = ReliableConsumer(
        name="notifications",
        sessions=notifications.sessions,
        handlers={ALLIANCE_CREATED: dies_after_handling},
        publish=_no_dead_letters,
        metrics=ServiceMetrics(service="notifications"),
    )
    with pytest.raises(Killed):
        await killed.handle(_record(event))
    assert await notifications.deliveries() == []

    # Kafka redelivers everything, twice; the join runs again on a redelivery, too.
    for envelope in (event, people, event, people):
        await consumer.handle(_record(envelope))
    await notifications.deliver(event, people)

    clock = Clock(start())
    await notifications.dispatcher(clock).send_due()
    await notifications.dispatcher(clock).send_due()

    assert len(mails(sink, to=GRETE.email)) == 1
    assert len(mails(sink, to=SERVICEBUERO)) == 1
    assert [d.status for d in await notifications.deliveries()] == ["sent", "sent"]

    # Redelivered once more after the mails went out (a replay past the inbox).
    await notifications.deliver(event, people)
    clock.advance(3600)
    await notifications.dispatcher(clock).send_due()
    assert len(mails(sink)) == 2


async def _no_dead_letters(topic: str, record: KafkaRecord) -> None:
    raise AssertionError(f"nothing should be dead-lettered ({topic})")


def _record(envelope: Envelope) -> Any:
    from lobu.shared.consumer import ReceivedRecord

    record = to_kafka_record(envelope)
    return ReceivedRecord(
        topic="directory.alliance",
        partition=0,
        offset=0,
        headers=tuple(record.headers.items()),
        key=record.key,
        value=record.value,
    )


class DiesAfterAccept(SmtpMailer):
    """The process dies right after the SMTP server accepted the mail."""

    async def send(self, mail: OutgoingMail) -> None:
        await super().send(mail)
        raise asyncio.CancelledError


@pytest.mark.asyncio(loop_scope="session")
async def test_a_sender_killed_after_smtp_accepted_resends_once_with_the_same_message_id(
    notifications: Notifications, sink: MailSink
) -> None:
    await notifications.deliver(created(), contacts(created(), [GRETE]))
    clock = Clock(start())
    dying = notifications.dispatcher(
        clock, mailer=DiesAfterAccept(notifications.settings), concurrency=1
    )

    with pytest.raises(asyncio.CancelledError):
        await dying.send_due()
    (first,) = await notifications.deliveries(status="sending")

    healthy = notifications.dispatcher(clock, sending_lease_seconds=300)
    await healthy.send_due()  # the lease has not run out: nobody sends it again yet
    assert len(mails(sink, to=first.recipient)) == 1
    assert [d.status for d in await notifications.deliveries(id=first.id)] == ["sending"]

    clock.advance(301)
    await healthy.send_due()
    await healthy.send_due()

    copies = mails(sink, to=first.recipient)
    assert len(copies) == 2  # the one crash window the Message-ID covers
    assert {m["Message-ID"].strip() for m in copies} == {
        message_id(f"{first.event_id}:{first.recipient}")
    }
    assert {d.status for d in await notifications.deliveries()} == {"sent"}


# --- retries on an injected clock; SMTP down, then up ----------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_smtp_down_then_up_retries_with_backoff_and_delivers_once(
    notifications: Notifications, tmp_path: Path, smtp_port: int
) -> None:
    await notifications.deliver(created(), contacts(created(), [GRETE]))
    clock = Clock(start())
    dispatcher = notifications.dispatcher(clock, max_attempts=6)

    for attempt, backoff in enumerate([1, 2, 4], start=1):
        assert await dispatcher.send_due() == 2  # nobody listens on the SMTP port
        rows = await notifications.deliveries()
        assert {(d.status, d.attempts) for d in rows} == {("retrying", attempt)}
        assert {d.last_error for d in rows} == {"SMTPConnectError"}
        assert {d.next_attempt_at.replace(tzinfo=UTC) for d in rows} == {
            clock.now + timedelta(seconds=backoff)
        }
        clock.advance(backoff - 0.5)
        assert await dispatcher.send_due() == 0  # not due before its back-off ends
        clock.advance(0.5)

    sink = MailSink(tmp_path / "late-mail", port=smtp_port)
    sink.start()
    try:
        assert await dispatcher.send_due() == 2
        clock.advance(3600)
        assert await dispatcher.send_due() == 0
        assert len(mails(sink)) == 2
    finally:
        sink.stop()
    rows = await notifications.deliveries()
    assert {(d.status, d.attempts, d.last_error) for d in rows} == {("sent", 4, None)}


@pytest.mark.asyncio(loop_scope="session")
async def test_after_the_last_attempt_a_delivery_fails_and_an_admin_can_retry_it(
    notifications: Notifications, smtp_port: int, tmp_path: Path
) -> None:
    await notifications.deliver(created(), contacts(created(), [GRETE]))
    clock = Clock(start())
    dispatcher = notifications.dispatcher(clock, max_attempts=2)
    for _ in range(2):
        await dispatcher.send_due()
        clock.advance(10)
    rows = await notifications.deliveries()
    assert {d.status for d in rows} == {"failed"}
    welcome = next(d for d in rows if d.template == "welcome")

    async with client(notifications.app) as http:
        retried = await http.post(f"/deliveries/{welcome.id}/retry", headers=ADMIN)
        again = await http.post(f"/deliveries/{welcome.id}/retry", headers=ADMIN)
        unknown = await http.post("/deliveries/999999/retry", headers=ADMIN)
        anonymous = await http.post(f"/deliveries/{welcome.id}/retry")
        everything = await http.post(
            "/deliveries/retry-failed", json={"event_type": ALLIANCE_CREATED}, headers=ADMIN
        )
        failed_page = await http.get("/deliveries", params={"status": "failed"}, headers=ADMIN)

    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "pending"
    assert retried.json()["attempts"] == 0
    assert again.status_code == 409
    assert again.json()["code"] == "delivery_not_retryable"
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "delivery_not_found"
    assert anonymous.status_code == 401
    assert everything.json() == {"retried": 1}  # the Servicebüro's; the welcome was pending
    assert failed_page.json()["items"] == []

    sink = MailSink(tmp_path / "after-retry", port=smtp_port)
    sink.start()
    try:
        clock.advance(1)
        assert await dispatcher.send_due() == 2
    finally:
        sink.stop()
    assert len(mails(sink)) == 2


# --- preferences: one click, the page, suppressed and transactional --------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_one_click_unsubscribe_suppresses_the_category_but_not_transactional_mail(
    notifications: Notifications, sink: MailSink
) -> None:
    clock = Clock(start())
    dispatcher = notifications.dispatcher(clock)
    await notifications.deliver(created(1))
    await dispatcher.send_due()
    (notice,) = mails(sink, to=SERVICEBUERO)
    url = notice["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith("http://notifications.test/unsubscribe/")
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = url.removeprefix("http://notifications.test")

    async with client(notifications.app) as http:
        # What a mail client sends (RFC 8058): form-encoded, no cookies, no login.
        response = await http.post(
            path,
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        forged = await http.post(path[:-3] + "xyz", content="List-Unsubscribe=One-Click")
    assert 200 <= response.status_code < 300
    assert "Keine Nachrichten dieser Art mehr erhalten" in response.text
    assert forged.status_code == 404

    # The Servicebüro also happens to be a contact: the welcome (transactional) still goes.
    second = created(2)
    servicebuero_contact = ContactPerson(name="Servicebüro", email=SERVICEBUERO)
    await notifications.deliver(second, contacts(second, [servicebuero_contact]))
    await dispatcher.send_due()

    statuses = {(d.template, d.status) for d in await notifications.deliveries(event_id=second.id)}
    assert statuses == {("welcome", "sent")}  # one per (event, recipient, channel)
    third = created(3)
    await notifications.deliver(third)
    await dispatcher.send_due()
    (suppressed,) = await notifications.deliveries(event_id=third.id)
    assert suppressed.status == "suppressed"
    assert suppressed.last_error == "unsubscribed from Änderungen in der Adressdatenbank"
    assert len(mails(sink, to=SERVICEBUERO)) == 2  # the first notice and the welcome

    async with client(notifications.app) as http:
        log = await http.get("/deliveries", params={"status": "suppressed"}, headers=ADMIN)
    assert [item["event_id"] for item in log.json()["items"]] == [third.id]


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unsubscribe_after_queueing_suppresses_the_mail_before_it_is_sent(
    notifications: Notifications, sink: MailSink
) -> None:
    await notifications.deliver(created(1))
    async with notifications.sessions() as session, session.begin():
        await set_mode(session, SERVICEBUERO, Category.DIRECTORY_CHANGES, DeliveryMode.OFF)

    await notifications.dispatcher(Clock(start())).send_due()

    (row,) = await notifications.deliveries()
    assert row.status == "suppressed"
    assert mails(sink) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_the_preference_page_shows_the_choice_and_saves_a_digest(
    notifications: Notifications,
) -> None:
    await notifications.deliver(created(1))
    (row,) = await notifications.deliveries()
    assert row.unsubscribe_url is not None
    path = row.unsubscribe_url.removeprefix("http://notifications.test")

    async with client(notifications.app) as http:
        page = await http.get(path)
        saved = await http.post(
            path,
            content="mode=digest",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        again = await http.get(path)
        transactional = await http.get(
            "/unsubscribe/" + links_for(notifications.settings).token("x", Category.TRANSACTIONAL)
        )

    assert page.status_code == 200
    assert "Änderungen in der Adressdatenbank" in page.text
    assert SERVICEBUERO not in page.text  # masked: s…o@lokale-buendnisse-fuer-familie.de
    assert 'value="immediate" checked' in page.text
    assert saved.status_code == 200
    assert "Gespeichert" in saved.text
    assert 'value="digest" checked' in again.text
    assert transactional.status_code == 404


# --- digest -----------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_a_day_of_facts_becomes_one_digest_at_the_hour_each_fact_once(
    notifications: Notifications, sink: MailSink
) -> None:
    async with notifications.sessions() as session, session.begin():
        await set_mode(session, SERVICEBUERO, Category.DIRECTORY_CHANGES, DeliveryMode.DIGEST)
    facts = [created(n) for n in range(1, 4)]
    await notifications.deliver(*facts, facts[0])  # one of them twice
    assert await notifications.deliveries() == []

    composer = DigestComposer(
        notifications.sessions,
        MessageRenderer(),
        links_for(notifications.settings),
        hour=7,
        timezone="Europe/Berlin",
    )
    berlin = ZoneInfo("Europe/Berlin")
    tomorrow = (datetime.now(berlin) + timedelta(days=1)).date()
    before_hour = datetime.combine(tomorrow, time(6, 59), berlin)
    at_hour = datetime.combine(tomorrow, time(7, 0), berlin)
    assert await composer.compose_due(before_hour) == 0
    assert await composer.compose_due(at_hour) == 1
    assert await composer.compose_due(at_hour + timedelta(hours=3)) == 0  # once a day

    (digest,) = await notifications.deliveries()
    assert digest.template == "digest"
    assert digest.recipient == SERVICEBUERO
    for number in range(1, 4):
        assert digest.body.count(f"Neu eingetragen: Bündnis für Familie Nummer {number} ") == 1
    assert "(3 Meldungen)" in digest.body
    async with notifications.sessions() as session:
        items = (await session.scalars(select(DigestItem))).all()
    assert len(items) == 3
    assert {item.digest_delivery_id for item in items} == {digest.id}

    await notifications.dispatcher(Clock(at_hour)).send_due()
    (mail,) = mails(sink)
    assert mail["Subject"].startswith("Tägliche Zusammenfassung: Änderungen in der Adressdatenbank")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# --- never blocking: a hanging SMTP server holds at most `concurrency` deliveries -------


@pytest.mark.asyncio(loop_scope="session")
async def test_a_hanging_smtp_server_holds_only_the_workers_never_the_consumers(
    notifications: Notifications, smtp_port: int
) -> None:
    connections: list[asyncio.StreamWriter] = []

    async def hang(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accept, then never say a word

    server = await asyncio.start_server(hang, "127.0.0.1", smtp_port)
    dispatcher = notifications.dispatcher(Clock(start()), concurrency=2)
    try:
        for number in range(1, 6):
            await notifications.deliver(created(number))
        await dispatcher.start()
        await eventually(lambda: len(connections) == 2, timeout=60, what="two SMTP sessions")

        # Meanwhile the consumers go on: more events are handled and queued at once.
        more = created(9)
        await asyncio.wait_for(notifications.deliver(more, contacts(more, [GRETE])), 60)
        assert len(await notifications.deliveries(event_id=more.id)) == 2
        assert len(connections) == 2  # bounded: the other deliveries wait their turn
        assert len(await notifications.deliveries(status="sending")) == 2
    finally:
        await dispatcher.stop()
        server.close()
        for writer in connections:
            writer.close()


# --- metrics ----------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_the_gauges_show_backlog_oldest_age_and_suppressed(
    notifications: Notifications,
) -> None:
    await notifications.deliver(created(1), contacts(created(1), [GRETE]))
    moment = start()  # read once: two readings can fall in two different seconds
    async with notifications.sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(col(Delivery.template) == "welcome")
            .values(status="retrying", created_at=moment - timedelta(minutes=10))
        )
        await session.execute(
            update(Delivery).where(col(Delivery.template) != "welcome").values(status="suppressed")
        )
    runtime = SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))
    metrics: DeliveryMetrics = create_metrics(runtime)  # type: ignore[arg-type]
    dispatcher = DeliveryDispatcher(
        notifications.sessions,
        SmtpMailer(notifications.settings),
        metrics=metrics,
        max_attempts=3,
        poll_seconds=1,
        clock=Clock(moment),
    )

    await dispatcher.refresh_metrics()

    sample = runtime.metrics.registry.get_sample_value
    assert sample("lobu_notifications_retry_backlog", {"channel": "email"}) == 1
    assert sample("lobu_notifications_oldest_pending_age_seconds", {"channel": "email"}) == 600
    assert (
        sample(
            "lobu_notifications_deliveries_by_status", {"channel": "email", "status": "suppressed"}
        )
        == 1
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_the_digest_is_offered_only_for_categories_a_digest_can_bundle(
    notifications: Notifications,
) -> None:
    from lobu.notifications.preferences import recipient_key
    from lobu.notifications.routing import digest_categories

    assert digest_categories() == {Category.DIRECTORY_CHANGES}
    async with notifications.sessions() as session, session.begin():
        key = await recipient_key(session, "jule.koenig@example.org")
    links = links_for(notifications.settings)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with client(notifications.app) as http:
        for category in Category:
            if category is Category.TRANSACTIONAL:
                continue
            path = "/unsubscribe/" + links.token(key, category)
            page = await http.get(path)
            offered = 'value="digest"' in page.text
            assert offered is (category in digest_categories()), category
            if not offered:
                # A digest posted anyway (an old page) is what it would be: immediate mail.
                saved = await http.post(path, content="mode=digest", headers=form)
                assert "Gespeichert: Jede Nachricht sofort erhalten." in saved.text
                async with notifications.sessions() as session:
                    assert await mode_of(session, "jule.koenig@example.org", category) is (
                        DeliveryMode.IMMEDIATE
                    )


def test_a_mail_offers_the_digest_in_its_footer_only_where_it_exists() -> None:
    renderer = MessageRenderer()
    values = {"title": "Umfrage", "link": "http://s.test/x", "closes_on": "1.7.", "intro": "",
              "alliance_name": "Bündnis", "contact_name": "Anna"}  # fmt: skip
    without = renderer.render("survey_invitation", values, reason="r",
                              unsubscribe_url="http://u.test/1", digest_offered=False)  # fmt: skip
    with_digest = renderer.render("survey_invitation", values, reason="r",
                                  unsubscribe_url="http://u.test/1")  # fmt: skip
    assert "Zusammenfassung" not in without.text
    assert "Zusammenfassung" not in without.html
    assert "Abbestellen:" in without.text
    assert "als tägliche Zusammenfassung erhalten" in with_digest.text
