"""The mails of the surveys and events services: the routes, the templates as the
handlers render them (SQLite and PostgreSQL), the survey join with the alliance's
contacts in whichever order they come, preferences, duplicates, and the join under
two concurrent transactions on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.inbox  # registers the inbox table with SQLModel.metadata
import lobu.shared.outbox  # noqa: F401  # registers the outbox table with SQLModel.metadata
from lobu.notifications.consumers import alliance_handlers, registration_handlers
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.models import Delivery, PendingSurveyMail
from lobu.notifications.notifier import Notifier
from lobu.notifications.preferences import DeliveryMode, set_mode
from lobu.notifications.registration_mails import RegistrationMails
from lobu.notifications.routing import ROUTES, Category, RecipientKind
from lobu.shared import Envelope, EventHandler
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceEntry,
    ContactPerson,
)
from lobu.shared.contracts.events import (
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_PROMOTED,
    REGISTRATION_WAITLISTED,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationFact,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from lobu.shared.contracts.surveys import (
    INVITATION_ANSWERED,
    INVITATION_ISSUED,
    INVITATION_REMINDED,
    InvitationAnswered,
    InvitationFact,
    InvitationIssued,
    InvitationReminded,
)
from lobu.shared.database import create_engine, create_session_factory
from tests.notifications.conftest import SettingsFactory, links_for, reactions_for
from tests.support.waiting import eventually

Sessions = async_sessionmaker[AsyncSession]

NAME = "Lokales Bündnis für Familie Lüneburg"
TITLE = "Jahresumfrage 2026"
LINK = "http://surveys.test/antworten/s3cr3t-token-abc"
CLOSES = datetime(2099, 6, 30, 21, 59, tzinfo=UTC)  # 23:59 in Berlin, 30.06.
SUBMITTED = datetime(2099, 6, 1, 22, 30, tzinfo=UTC)  # 02.06. 00:30 in Berlin
STARTS = datetime(2027, 5, 15, 8, 0, tzinfo=UTC)  # 10:00 in Berlin (summer time)
GRETE = ContactPerson(name="Grete Müller", email="grete.mueller@example.org", role="Sprecherin")
JOSEF = ContactPerson(name="Josef Öztürk", email="josef.oeztuerk@example.org")
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CANCEL_URL = "http://events.test/anmeldungen/c4nc3l-token"


# --- events as their services publish them --------------------------------------------


def created(alliance_id: str, *, entry: AllianceEntry = "new") -> Envelope:
    data = AllianceCreated(
        entry=entry,
        id=alliance_id,
        slug="lokales-buendnis-lueneburg",
        name=NAME,
        state="NI",
        postal_code="21335",
        city="Lüneburg",
        version=1,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    return Envelope(
        type=ALLIANCE_CREATED, source="/lobu/directory", subject=alliance_id,
        data=data.model_dump(mode="json"),
    )  # fmt: skip


def contacts(alliance_id: str, people: list[ContactPerson], version: int = 1) -> Envelope:
    data = AllianceContactsChanged(alliance_id=alliance_id, version=version, contacts=people)
    return Envelope(
        type=ALLIANCE_CONTACTS_CHANGED, source="/lobu/directory", subject=alliance_id,
        data=data.model_dump(mode="json"),
    )  # fmt: skip


def deleted(alliance_id: str) -> Envelope:
    data = AllianceDeleted(id=alliance_id, version=2, deleted_at=MOMENT)
    return Envelope(
        type=ALLIANCE_DELETED, source="/lobu/directory", subject=alliance_id,
        data=data.model_dump(mode="json"),
    )  # fmt: skip


def survey_fact(kind: str, alliance_id: str, *, replaced: bool = False) -> Envelope:
    common = {
        "survey_id": "s-1", "year": 2026, "title": TITLE, "invitation_id": "i-1",
        "alliance_id": alliance_id, "link": LINK, "closes_at": CLOSES,
    }  # fmt: skip
    data: InvitationFact
    if kind == INVITATION_ISSUED:
        data = InvitationIssued(**common, intro="Wie geht es Familien in Ihrer Stadt?")
    elif kind == INVITATION_REMINDED:
        data = InvitationReminded(**common, days_before=7)
    else:
        data = InvitationAnswered(**common, submitted_at=SUBMITTED, replaced=replaced)
    return Envelope(
        type=kind, source="/lobu/surveys", subject=alliance_id, data=data.model_dump(mode="json")
    )


def registration(kind: str, **changes: object) -> Envelope:
    values: dict[str, object] = {
        "registration_id": "r-1", "action_id": "a-1", "edition_year": 2027,
        "alliance_id": "al-1", "alliance_name": "Bündnis für Familie Würzburg",
        "action_title": "Familienfest am Mühlbach", "starts_at": STARTS,
        "ends_at": STARTS + timedelta(hours=3), "place": "Mühlweg 3, 97070 Würzburg",
        "name": "Jürgen Weiß", "email": "juergen.weiss@example.org", "seats": 3,
        "status": "confirmed", "cancel_url": CANCEL_URL,
    }  # fmt: skip
    values |= changes
    data: RegistrationFact
    if kind == REGISTRATION_WAITLISTED:
        data = RegistrationWaitlisted.model_validate(
            {**values, "status": "waitlisted", "seats_ahead": 5}
        )
    elif kind == REGISTRATION_PROMOTED:
        data = RegistrationPromoted.model_validate({**values, "cancel_url": None})
    elif kind == REGISTRATION_CANCELLED:
        data = RegistrationCancelled.model_validate(
            {"reason": "participant", **values, "status": "cancelled", "cancel_url": None}
        )
    else:
        data = RegistrationConfirmed.model_validate(values)
    return Envelope(
        type=kind, source="/lobu/events", subject="a-1", data=data.model_dump(mode="json")
    )


# --- fixtures and helpers -------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def handlers(notification_settings: SettingsFactory) -> dict[str, EventHandler]:
    settings = notification_settings()
    reactions = reactions_for(settings)
    mails = RegistrationMails(Notifier(MessageRenderer(), links_for(settings)))
    return alliance_handlers(reactions) | registration_handlers(mails)


async def deliver(
    sessions: Sessions, handlers: dict[str, EventHandler], *envelopes: Envelope
) -> None:
    for envelope in envelopes:
        async with sessions() as session, session.begin():
            await handlers[envelope.type](session, envelope)


async def rows(sessions: Sessions, event_type: str) -> dict[str, Delivery]:
    async with sessions() as session:
        found = await session.scalars(
            select(Delivery).where(col(Delivery.event_type) == event_type)
        )
        return {row.recipient: row for row in found.all()}


async def pending(sessions: Sessions) -> list[PendingSurveyMail]:
    async with sessions() as session:
        return list((await session.scalars(select(PendingSurveyMail))).all())


def assert_link_on_its_own_line(body: str, link: str) -> None:
    assert f"\n\n{link}\n\n" in body


# --- the routing table ----------------------------------------------------------------


def test_every_new_fact_has_one_route_and_its_templates() -> None:
    pairs = [(route.event_type, route.recipients) for route in ROUTES]
    assert len(pairs) == len(set(pairs))
    expected = {
        INVITATION_ISSUED: (RecipientKind.ALLIANCE_CONTACTS, Category.SURVEY_INVITATIONS),
        INVITATION_REMINDED: (RecipientKind.ALLIANCE_CONTACTS, Category.SURVEY_REMINDERS),
        INVITATION_ANSWERED: (RecipientKind.ALLIANCE_CONTACTS, Category.TRANSACTIONAL),
        REGISTRATION_CONFIRMED: (RecipientKind.EVENT_PARTICIPANTS, Category.TRANSACTIONAL),
        REGISTRATION_WAITLISTED: (RecipientKind.EVENT_PARTICIPANTS, Category.TRANSACTIONAL),
        REGISTRATION_PROMOTED: (RecipientKind.EVENT_PARTICIPANTS, Category.TRANSACTIONAL),
        REGISTRATION_CANCELLED: (RecipientKind.EVENT_PARTICIPANTS, Category.TRANSACTIONAL),
    }
    got = {r.event_type: (r.recipients, r.category) for r in ROUTES if r.event_type in expected}
    assert got == expected
    folder = Path(__import__("lobu.notifications").notifications.__file__).parent
    for route in ROUTES:
        for part in ("subject.txt", "txt", "html"):
            assert (folder / "templates" / "mail" / f"{route.template}.{part}").is_file()


# --- survey mails through the handlers ------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_survey_mails_name_the_survey_and_carry_the_link(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    await deliver(sessions, handlers, created(alliance), contacts(alliance, [GRETE, JOSEF]))
    await deliver(
        sessions,
        handlers,
        survey_fact(INVITATION_ISSUED, alliance),
        survey_fact(INVITATION_REMINDED, alliance),
        survey_fact(INVITATION_ANSWERED, alliance, replaced=True),
    )
    issued = await rows(sessions, INVITATION_ISSUED)
    assert set(issued) == {GRETE.email, JOSEF.email}
    mail = issued[GRETE.email]
    assert mail.subject == f"Einladung zur {TITLE}"
    assert mail.category == "survey_invitations"
    assert "Guten Tag Grete Müller," in mail.body
    assert f"Ihr Bündnis „{NAME}“" in mail.body
    assert "bis zum 30.06.2099" in mail.body
    assert "Wie geht es Familien in Ihrer Stadt?" in mail.body
    assert_link_on_its_own_line(mail.body, LINK)
    assert f"als Ansprechperson (Sprecherin) für „{NAME}“" in " ".join(mail.body.split())
    assert mail.unsubscribe_url
    assert mail.unsubscribe_url in mail.body
    assert mail.html_body
    assert f'href="{LINK}"' in mail.html_body
    assert "Bündnis" in mail.html_body
    assert mail.unsubscribe_url in mail.html_body

    reminded = (await rows(sessions, INVITATION_REMINDED))[JOSEF.email]
    assert reminded.subject == f"Erinnerung: {TITLE} – noch 7 Tage"
    assert reminded.category == "survey_reminders"
    assert "noch nicht beantwortet" in reminded.body
    assert "endet am 30.06.2099" in reminded.body
    assert_link_on_its_own_line(reminded.body, LINK)
    assert reminded.html_body
    assert f'href="{LINK}"' in reminded.html_body

    receipt = (await rows(sessions, INVITATION_ANSWERED))[GRETE.email]
    assert receipt.subject == f"Eingangsbestätigung: {TITLE}"
    assert receipt.category == "transactional"
    assert receipt.unsubscribe_url is None
    assert "am 02.06.2099 um 00:30 Uhr eingegangen und ersetzen die früheren." in receipt.body
    assert_link_on_its_own_line(receipt.body, LINK)
    assert "Abbestellen" not in receipt.body
    assert receipt.html_body
    assert f'href="{LINK}"' in receipt.html_body


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("late", ["contacts", "alliance", "none"])
async def test_an_existing_member_is_invited_but_never_welcomed(
    engine: AsyncEngine, handlers: dict[str, EventHandler], late: str
) -> None:
    """The demo data's alliances (and a move from an earlier database) enter as existing
    members: their contacts get survey mail, and neither they nor the Servicebüro are
    told of a "new" alliance."""
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    facts = [created(alliance, entry="existing"), contacts(alliance, [GRETE])]
    early = {"contacts": facts[:1], "alliance": facts[1:], "none": facts}[late]
    await deliver(sessions, handlers, *early)
    await deliver(sessions, handlers, survey_fact(INVITATION_ISSUED, alliance))
    await deliver(sessions, handlers, *[fact for fact in facts if fact not in early])

    assert set(await rows(sessions, INVITATION_ISSUED)) == {GRETE.email}
    assert await rows(sessions, ALLIANCE_CREATED) == {}  # no welcome, no "Neu eingetragen"
    assert await pending(sessions) == []


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("late", ["contacts", "alliance", "both"])
async def test_an_invitation_before_the_contacts_waits_for_them(
    engine: AsyncEngine, handlers: dict[str, EventHandler], late: str
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    early = {"contacts": [created(alliance)], "alliance": [contacts(alliance, [GRETE])]}
    await deliver(sessions, handlers, *early.get(late, []))
    await deliver(sessions, handlers, survey_fact(INVITATION_ISSUED, alliance))
    assert await rows(sessions, INVITATION_ISSUED) == {}
    assert [row.alliance_id for row in await pending(sessions)] == [alliance]
    later = {
        "contacts": [contacts(alliance, [GRETE])],
        "alliance": [created(alliance)],
        "both": [contacts(alliance, [GRETE]), created(alliance)],
    }[late]
    await deliver(sessions, handlers, *later)
    assert set(await rows(sessions, INVITATION_ISSUED)) == {GRETE.email}
    assert await pending(sessions) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_a_deleted_alliance_drops_its_held_survey_mails(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    await deliver(sessions, handlers, created(alliance), survey_fact(INVITATION_ISSUED, alliance))
    await deliver(sessions, handlers, deleted(alliance), contacts(alliance, [GRETE], version=1))
    assert await pending(sessions) == []
    assert await rows(sessions, INVITATION_ISSUED) == {}


@pytest.mark.asyncio(loop_scope="session")
async def test_a_duplicate_fact_is_one_mail(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    invitation = survey_fact(INVITATION_ISSUED, alliance)
    confirmed = registration(REGISTRATION_CONFIRMED, registration_id=alliance)
    await deliver(sessions, handlers, invitation, invitation, created(alliance))
    await deliver(sessions, handlers, contacts(alliance, [GRETE]), invitation, confirmed, confirmed)
    async with sessions() as session:
        count = await session.scalar(
            select(text("count(*)"))
            .select_from(Delivery)
            .where(col(Delivery.event_id).in_([invitation.id, confirmed.id]))
        )
    assert count == 2


@pytest.mark.asyncio(loop_scope="session")
async def test_an_unsubscribed_contact_gets_no_invitation_but_the_receipt(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    async with sessions() as session, session.begin():
        await set_mode(session, GRETE.email, Category.SURVEY_INVITATIONS, DeliveryMode.OFF)
    await deliver(sessions, handlers, created(alliance), contacts(alliance, [GRETE, JOSEF]))
    await deliver(
        sessions,
        handlers,
        survey_fact(INVITATION_ISSUED, alliance),
        survey_fact(INVITATION_ANSWERED, alliance),
    )
    issued = await rows(sessions, INVITATION_ISSUED)
    assert issued[GRETE.email].status == "suppressed"
    assert issued[JOSEF.email].status == "pending"
    receipts = await rows(sessions, INVITATION_ANSWERED)
    assert {address: row.status for address, row in receipts.items()} == {
        GRETE.email: "pending",
        JOSEF.email: "pending",
    }
    assert " und ersetzen" not in receipts[GRETE.email].body


# --- registration mails through the handler -------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_registration_mails_to_the_participant(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    facts = [
        registration(REGISTRATION_CONFIRMED),
        registration(REGISTRATION_WAITLISTED, registration_id="r-2"),
        registration(REGISTRATION_PROMOTED, registration_id="r-3"),
        registration(REGISTRATION_CANCELLED, registration_id="r-4"),
    ]
    await deliver(sessions, handlers, *facts)
    participant = "juergen.weiss@example.org"
    confirmed = (await rows(sessions, REGISTRATION_CONFIRMED))[participant]
    assert confirmed.subject == "Anmeldung bestätigt: Familienfest am Mühlbach"
    assert confirmed.category == "transactional"
    assert confirmed.unsubscribe_url is None
    assert "Hallo Jürgen Weiß," in confirmed.body
    assert "am 15.05.2027 um 10:00 Uhr" in confirmed.body
    assert "(Mühlweg 3, 97070 Würzburg) ist bestätigt: 3 Plätze." in confirmed.body
    assert "Veranstalter: Bündnis für Familie Würzburg." in confirmed.body
    assert_link_on_its_own_line(confirmed.body, CANCEL_URL)
    assert "weil Sie sich zu einer Veranstaltung angemeldet haben" in confirmed.body
    assert confirmed.html_body
    assert f'href="{CANCEL_URL}"' in confirmed.html_body
    assert "Mühlbach" in confirmed.html_body

    waitlisted = (await rows(sessions, REGISTRATION_WAITLISTED))[participant]
    assert waitlisted.subject == "Warteliste: Familienfest am Mühlbach"
    assert "zurzeit ausgebucht" in waitlisted.body
    assert "über 5 Plätze" in waitlisted.body
    assert_link_on_its_own_line(waitlisted.body, CANCEL_URL)

    promoted = (await rows(sessions, REGISTRATION_PROMOTED))[participant]
    assert promoted.subject == "Sie sind nachgerückt: Familienfest am Mühlbach"
    assert "Ihre 3 Plätze" in promoted.body
    assert "ersten E-Mail" in promoted.body
    assert "http" not in promoted.body.split("--")[0]

    cancelled = (await rows(sessions, REGISTRATION_CANCELLED))[participant]
    assert cancelled.subject == "Abmeldung bestätigt: Familienfest am Mühlbach"
    assert "Abmeldung" in cancelled.body
    assert cancelled.html_body


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("reason", "subject", "says"),
    [
        ("action_cancelled", "Abgesagt: Online-Elterncafé", "Anmeldung ist damit hinfällig"),
        ("alliance_withdrawn", "Abgesagt: Online-Elterncafé", "nicht mehr zum Netzwerk gehört"),
    ],
)
async def test_a_cancelled_action_says_why(
    engine: AsyncEngine, handlers: dict[str, EventHandler], reason: str, subject: str, says: str
) -> None:
    sessions = create_session_factory(engine)
    fact = registration(
        REGISTRATION_CANCELLED,
        reason=reason,
        action_title="Online-Elterncafé",
        place=None,
        online=True,
        online_url="https://treffen.example.org/elterncafe",
    )
    await deliver(sessions, handlers, fact)
    mail = (await rows(sessions, REGISTRATION_CANCELLED))["juergen.weiss@example.org"]
    assert mail.subject == subject
    assert says in " ".join(mail.body.split())
    assert mail.html_body
    assert says in " ".join(mail.html_body.split())


@pytest.mark.asyncio(loop_scope="session")
async def test_an_online_action_shows_its_link(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    url = "https://treffen.example.org/elterncafe"
    fact = registration(REGISTRATION_CONFIRMED, place=None, online=True, online_url=url)
    await deliver(sessions, handlers, fact)
    mail = (await rows(sessions, REGISTRATION_CONFIRMED))["juergen.weiss@example.org"]
    assert f"({url})" in mail.body
    assert mail.html_body
    assert f'href="{url}"' in mail.html_body


# --- the join under two concurrent transactions (PostgreSQL) ---------------------------


async def waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return bool(waiting)


@pytest.mark.integration
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("held", ["invitation", "contacts"])
# The race is one of PostgreSQL's READ COMMITTED transactions (SQLite serialises writers).
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_invitation_and_contacts_at_once_still_send_the_invitation(
    engine: AsyncEngine, handlers: dict[str, EventHandler], database_url: str, held: str
) -> None:
    """One transaction stays open after its writes while the other runs."""
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    await deliver(sessions, handlers, created(alliance))
    first, second = survey_fact(INVITATION_ISSUED, alliance), contacts(alliance, [GRETE, JOSEF])
    if held == "contacts":
        first, second = second, first

    async def run_second() -> None:
        async with sessions() as session, session.begin():
            await handlers[second.type](session, second)

    async with sessions() as held_open:
        async with held_open.begin():
            await handlers[first.type](held_open, first)
            await held_open.flush()
            other = asyncio.create_task(run_second())
            await eventually(
                lambda: other.done() or waiting_for_a_lock(engine),
                timeout=60,
                interval=0.05,
                what="the second handler to finish or wait for the lock",
            )
        await other

    assert set(await rows(sessions, INVITATION_ISSUED)) == {GRETE.email, JOSEF.email}
    assert await pending(sessions) == []


# --- subscription, logs ----------------------------------------------------------------


class RecordingRuntime:
    """Stands in for ServiceRuntime.add_consumer: remembers the subscriptions."""

    def __init__(self) -> None:
        self.consumers: list[tuple[str, list[str], dict[str, EventHandler]]] = []

    def add_consumer(
        self, *, name: str, topics: list[str], handlers: dict[str, EventHandler]
    ) -> None:
        self.consumers.append((name, list(topics), handlers))


def test_one_consumer_group_follows_the_six_topics(
    notification_settings: SettingsFactory,
) -> None:
    from lobu.notifications.consumers import subscribe_to_alliances
    from lobu.notifications.contact_mails import ContactMessageMails
    from lobu.notifications.sign_in_mails import SignInLinkMails

    settings = notification_settings()
    runtime = RecordingRuntime()
    notifier = Notifier(MessageRenderer(), links_for(settings))
    mails = RegistrationMails(notifier)
    contact = ContactMessageMails(notifier, servicebuero_address="s@example.org", retention_days=7)
    sign_in = SignInLinkMails(notifier)
    subscribe_to_alliances(runtime, reactions_for(settings), mails, contact_messages=contact,  # type: ignore[arg-type]
                           sign_in_links=sign_in)  # fmt: skip
    ((name, topics, handled),) = runtime.consumers
    assert name == "notifications"
    assert set(topics) == {
        "directory.alliance",
        "directory.alliance-contacts",
        "surveys.invitation",
        "events.registration",
        "directory.contact-message",
        "directory.sign-in-link",
    }
    assert {route.event_type for route in ROUTES} <= set(handled)


@pytest.mark.asyncio(loop_scope="session")
async def test_no_link_and_no_participant_in_the_logs(
    engine: AsyncEngine, handlers: dict[str, EventHandler], caplog: pytest.LogCaptureFixture
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    # Ours at DEBUG, everything else at INFO (aiosqlite's DEBUG log prints bound parameters).
    caplog.set_level("INFO")
    caplog.set_level("DEBUG", logger="lobu")
    await deliver(
        sessions,
        handlers,
        survey_fact(INVITATION_ISSUED, alliance),
        created(alliance),
        contacts(alliance, [GRETE]),
        survey_fact(INVITATION_ANSWERED, alliance),
        registration(REGISTRATION_CONFIRMED),
    )
    assert set(await rows(sessions, INVITATION_ISSUED)) == {GRETE.email}
    for secret in (LINK, CANCEL_URL, "juergen.weiss@example.org", "Jürgen Weiß"):
        assert secret not in caplog.text


@pytest.mark.asyncio(loop_scope="session")
async def test_a_deleted_alliance_cancels_its_unsent_survey_mails(
    engine: AsyncEngine, handlers: dict[str, EventHandler]
) -> None:
    sessions = create_session_factory(engine)
    alliance = str(uuid.uuid4())
    await deliver(sessions, handlers, created(alliance), contacts(alliance, [GRETE]))
    await deliver(sessions, handlers, survey_fact(INVITATION_ISSUED, alliance), deleted(alliance))
    issued = await rows(sessions, INVITATION_ISSUED)
    assert issued[GRETE.email].status == "cancelled"
