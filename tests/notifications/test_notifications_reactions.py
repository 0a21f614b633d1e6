"""AllianceReactions: replicas of the alliance facts, and the welcome mail joined from
the public `created` fact and the (internal) contacts, in whichever order they come.

The handlers run here exactly as the consumer runs them: inside one transaction each,
on a SQLite file database with the service's tables.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.inbox  # registers the inbox table with SQLModel.metadata
import lobu.shared.outbox  # noqa: F401  # registers the outbox table with SQLModel.metadata
from lobu.notifications.consumers import alliance_handlers
from lobu.notifications.models import AllianceReplica, ContactsReplica, Delivery
from lobu.notifications.service import AllianceReactions
from lobu.shared import Envelope
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceUpdated,
    ContactPerson,
)
from lobu.shared.database import create_engine, create_session_factory
from tests.notifications.conftest import SERVICEBUERO, SettingsFactory, reactions_for

pytestmark = pytest.mark.unit

SOURCE = "/lobu/directory"
ALLIANCE_ID = "6f1c2a34-0000-4000-8000-000000000001"
NAME = "Lokales Bündnis für Familie Lüneburg"
CITY = "Lüneburg"
WELCOME_SUBJECT = "Willkommen im Netzwerk der Lokalen Bündnisse für Familie"
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

GRETE = ContactPerson(name="Grete Müller", email="grete.mueller@example.org", role="Sprecherin")
JOSEF = ContactPerson(name="Josef Öztürk", email="josef.oeztuerk@example.org")

Sessions = async_sessionmaker[AsyncSession]
Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(tmp_path: Path) -> AsyncIterator[Sessions]:
    """A fresh SQLite database with notifications' tables (and the shared outbox/inbox)."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/notifications.db")
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
def reactions(notification_settings: SettingsFactory) -> AllianceReactions:
    """The handlers as main.py wires them."""
    return reactions_for(notification_settings())


# --- events, built as the directory publishes them -------------------------------------


def created(
    version: int = 1, *, name: str = NAME, city: str = CITY, alliance_id: str = ALLIANCE_ID
) -> Envelope:
    data = AllianceCreated(
        id=alliance_id,
        slug="lokales-buendnis-fuer-familie-lueneburg",
        name=name,
        state="NI",
        postal_code="21335",
        city=city,
        topics=["kinderbetreuung"],
        version=version,
        created_at=MOMENT,
        updated_at=MOMENT,
    )
    return Envelope(
        type=ALLIANCE_CREATED, source=SOURCE, subject=alliance_id, data=data.model_dump(mode="json")
    )


def updated(
    version: int, *, name: str = NAME, city: str = CITY, alliance_id: str = ALLIANCE_ID
) -> Envelope:
    data = AllianceUpdated(
        id=alliance_id,
        slug="lokales-buendnis-fuer-familie-lueneburg",
        name=name,
        state="NI",
        postal_code="21335",
        city=city,
        version=version,
        created_at=MOMENT,
        updated_at=MOMENT,
        changed_fields=["name", "city"],
    )
    return Envelope(
        type=ALLIANCE_UPDATED, source=SOURCE, subject=alliance_id, data=data.model_dump(mode="json")
    )


def deleted(version: int, *, alliance_id: str = ALLIANCE_ID) -> Envelope:
    data = AllianceDeleted(id=alliance_id, version=version, deleted_at=MOMENT)
    return Envelope(
        type=ALLIANCE_DELETED, source=SOURCE, subject=alliance_id, data=data.model_dump(mode="json")
    )


def assert_no_personal_data(stored: ContactsReplica | None) -> None:
    """A deletion leaves at most a tombstone: a version, and no contacts."""
    assert stored is None or stored.contacts == []


def contacts(
    version: int,
    people: list[ContactPerson],
    *,
    is_deleted: bool = False,
    alliance_id: str = ALLIANCE_ID,
) -> Envelope:
    data = AllianceContactsChanged(
        alliance_id=alliance_id, version=version, contacts=people, deleted=is_deleted
    )
    return Envelope(
        type=ALLIANCE_CONTACTS_CHANGED,
        source=SOURCE,
        subject=alliance_id,
        data=data.model_dump(mode="json"),
    )


# --- driving the handlers and reading the tables ---------------------------------------


def handler_for(reactions: AllianceReactions, envelope: Envelope) -> Handler:
    """The handler consumers.py registers for the envelope's type."""
    return alliance_handlers(reactions)[envelope.type]


async def deliver(sessions: Sessions, reactions: AllianceReactions, *envelopes: Envelope) -> None:
    """Handle each envelope in its own transaction, as the consumer does."""
    for envelope in envelopes:
        async with sessions() as session, session.begin():
            await handler_for(reactions, envelope)(session, envelope)


async def deliveries(sessions: Sessions, *, template: str = "welcome") -> list[Delivery]:
    """The deliveries of one template (the welcome unless told), oldest first."""
    async with sessions() as session:
        query = select(Delivery).where(col(Delivery.template) == template)
        return list((await session.scalars(query.order_by(col(Delivery.id)))).all())


async def alliance_replica(sessions: Sessions) -> AllianceReplica | None:
    async with sessions() as session:
        return await session.get(AllianceReplica, ALLIANCE_ID)


async def contacts_replica(sessions: Sessions) -> ContactsReplica | None:
    async with sessions() as session:
        return await session.get(ContactsReplica, ALLIANCE_ID)


async def mark_sent(sessions: Sessions) -> None:
    """What the dispatcher does once the SMTP server accepted every pending mail."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery).where(col(Delivery.status) == "pending").values(status="sent")
        )


def by_recipient(rows: list[Delivery]) -> dict[str, Delivery]:
    return {row.recipient: row for row in rows}


def assert_welcome(
    row: Delivery, *, created_event: Envelope, contact: ContactPerson, status: str = "pending"
) -> None:
    """A pending welcome to `contact`, in German, naming the contact and the alliance."""
    assert row.event_id == created_event.id
    assert row.event_type == ALLIANCE_CREATED
    assert row.alliance_id == ALLIANCE_ID
    assert row.channel == "email"
    assert row.recipient == contact.email.lower()
    assert row.status == status
    assert row.attempts == 0
    assert row.sent_at is None
    assert row.last_error is None
    assert row.subject == WELCOME_SUBJECT
    assert row.body.startswith(f"Guten Tag {contact.name},\n")
    assert f"„{NAME}“ ist jetzt" in row.body  # the name holds the town: not "in {CITY}" again
    assert "Mit freundlichen Grüßen" in row.body
    role = f" ({contact.role})" if contact.role else ""
    reason = f"weil Sie als Ansprechperson{role} für „{NAME}“ eingetragen"
    assert reason in " ".join(row.body.split())
    assert row.template == "welcome"
    assert row.category == "transactional"
    assert row.unsubscribe_url is None  # a welcome is transactional: always sent
    assert row.html_body is not None
    assert f"<p>Guten Tag {contact.name},</p>" in row.html_body
    assert "http://directory.test/buendnisse/lokales-buendnis-fuer-familie-lueneburg" in row.body


# --- the welcome join ------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("order", ["created_first", "contacts_first"])
async def test_welcome_is_scheduled_once_created_and_contacts_are_both_known_in_either_order(
    sessions: Sessions, reactions: AllianceReactions, order: str
) -> None:
    created_event = created()
    contacts_event = contacts(1, [GRETE, JOSEF])
    first, second = (
        (created_event, contacts_event)
        if order == "created_first"
        else (contacts_event, created_event)
    )

    await deliver(sessions, reactions, first)
    assert await deliveries(sessions) == []

    await deliver(sessions, reactions, second)
    rows = by_recipient(await deliveries(sessions))

    assert sorted(rows) == ["grete.mueller@example.org", "josef.oeztuerk@example.org"]
    assert_welcome(rows["grete.mueller@example.org"], created_event=created_event, contact=GRETE)
    assert_welcome(rows["josef.oeztuerk@example.org"], created_event=created_event, contact=JOSEF)
    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.welcome_scheduled
    assert replica.created_event_id == created_event.id
    assert replica.created_version == 1


@pytest.mark.asyncio(loop_scope="session")
async def test_a_contact_listed_twice_with_differently_cased_email_gets_one_welcome(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    shouting = ContactPerson(name="Grete Müller (Büro)", email="Grete.Mueller@EXAMPLE.org")
    created_event = created()

    await deliver(sessions, reactions, created_event, contacts(1, [GRETE, shouting]))

    rows = await deliveries(sessions)
    assert len(rows) == 1
    assert_welcome(rows[0], created_event=created_event, contact=GRETE)  # the first listed


@pytest.mark.asyncio(loop_scope="session")
async def test_the_welcome_is_scheduled_only_once_however_often_the_join_runs(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    await deliver(sessions, reactions, created_event, contacts(1, [GRETE]))
    assert len(await deliveries(sessions)) == 1
    await mark_sent(sessions)  # the welcome went out: later contacts get none

    newcomer = ContactPerson(name="Anna Weiß", email="anna.weiss@example.org")
    await deliver(
        sessions,
        reactions,
        updated(2, name="Bündnis für Familie Lüneburg"),
        contacts(2, [GRETE, JOSEF, newcomer]),  # a later change of contacts
        created_event,  # the same `created` once more (a redelivery past the inbox)
        contacts(3, [GRETE, JOSEF, newcomer]),
    )

    rows = await deliveries(sessions)
    assert [row.recipient for row in rows] == ["grete.mueller@example.org"]
    assert_welcome(rows[0], created_event=created_event, contact=GRETE, status="sent")
    stored = await contacts_replica(sessions)
    assert stored is not None
    assert stored.version == 3
    assert len(stored.contacts) == 3


@pytest.mark.asyncio(loop_scope="session")
async def test_contacts_older_than_the_created_version_do_not_trigger_the_welcome(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    # Only reachable through a replay, but it is the join's explicit guard.
    created_event = created(version=3)

    await deliver(sessions, reactions, contacts(2, [GRETE]), created_event)
    assert await deliveries(sessions) == []

    await deliver(sessions, reactions, contacts(3, [JOSEF]))
    rows = await deliveries(sessions)
    assert len(rows) == 1
    assert_welcome(rows[0], created_event=created_event, contact=JOSEF)


@pytest.mark.asyncio(loop_scope="session")
async def test_the_welcome_names_the_alliance_as_known_when_the_contacts_arrive(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()

    await deliver(
        sessions,
        reactions,
        created_event,
        updated(2, name="Familienbündnis Lüneburg", city="Hansestadt Lüneburg"),
        contacts(2, [GRETE]),
    )

    (row,) = await deliveries(sessions)
    assert row.event_id == created_event.id
    assert "„Familienbündnis Lüneburg“ in Hansestadt Lüneburg" in row.body


@pytest.mark.asyncio(loop_scope="session")
async def test_an_alliance_created_without_contacts_welcomes_its_first_contacts(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, created(), contacts(1, []))

    assert await deliveries(sessions) == []
    replica = await alliance_replica(sessions)
    assert replica is not None
    assert not replica.welcome_scheduled

    await deliver(sessions, reactions, updated(2), contacts(2, [GRETE]))

    assert [row.recipient for row in await deliveries(sessions)] == ["grete.mueller@example.org"]
    await mark_sent(sessions)
    await deliver(sessions, reactions, updated(3), contacts(3, [GRETE, JOSEF]))
    assert len(await deliveries(sessions)) == 1  # later contacts get no second welcome


# --- a change of contacts before the welcome went out (issue 6, defect 12) ---------------


@pytest.mark.asyncio(loop_scope="session")
async def test_a_removed_contact_gets_no_pending_welcome(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    await deliver(sessions, reactions, created_event, contacts(1, [GRETE, JOSEF]))

    await deliver(sessions, reactions, contacts(2, [GRETE]))  # Josef was removed

    rows = by_recipient(await deliveries(sessions))
    assert rows["grete.mueller@example.org"].status == "pending"
    assert rows["josef.oeztuerk@example.org"].status == "cancelled"
    assert rows["josef.oeztuerk@example.org"].last_error == "no longer a contact of the alliance"


@pytest.mark.asyncio(loop_scope="session")
async def test_a_contact_added_while_the_welcome_is_still_due_is_welcomed_too(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    anna = ContactPerson(name="Anna Weiß", email="anna.weiss@example.org")
    await deliver(sessions, reactions, created_event, contacts(1, [JOSEF]))

    # Josef is replaced by Anna before his welcome went out: she is welcomed instead.
    await deliver(sessions, reactions, contacts(2, [anna]))

    rows = by_recipient(await deliveries(sessions))
    assert rows["josef.oeztuerk@example.org"].status == "cancelled"
    assert_welcome(rows["anna.weiss@example.org"], created_event=created_event, contact=anna)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_contact_removed_and_added_again_gets_the_welcome_back(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    await deliver(sessions, reactions, created_event, contacts(1, [GRETE, JOSEF]))

    await deliver(sessions, reactions, contacts(2, [GRETE]), contacts(3, [GRETE, JOSEF]))

    rows = by_recipient(await deliveries(sessions))
    assert [row.status for row in rows.values()] == ["pending", "pending"]
    assert rows["josef.oeztuerk@example.org"].last_error is None


@pytest.mark.asyncio(loop_scope="session")
async def test_a_contact_added_after_the_welcome_went_out_gets_none(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    await deliver(sessions, reactions, created_event, contacts(1, [GRETE, JOSEF]))
    await mark_sent(sessions)

    anna = ContactPerson(name="Anna Weiß", email="anna.weiss@example.org")
    await deliver(sessions, reactions, contacts(2, [anna]))

    rows = by_recipient(await deliveries(sessions))
    assert sorted(rows) == ["grete.mueller@example.org", "josef.oeztuerk@example.org"]
    assert {row.status for row in rows.values()} == {"sent"}  # sent mail is not undone


# --- replicas: stale versions, deletion ------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_an_updated_older_than_the_replica_is_dropped(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, created(), updated(3, name="Neuer Name", city="Celle"))

    await deliver(
        sessions,
        reactions,
        updated(2, name="Alter Name", city="Uelzen"),  # stale
        updated(3, name="Gleiche Version", city="Gifhorn"),  # a duplicate version
    )

    replica = await alliance_replica(sessions)
    assert replica is not None
    assert (replica.name, replica.city, replica.version) == ("Neuer Name", "Celle", 3)


@pytest.mark.asyncio(loop_scope="session")
async def test_a_stale_contacts_change_is_dropped(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, contacts(3, [JOSEF]), contacts(2, [GRETE]))

    stored = await contacts_replica(sessions)
    assert stored is not None
    assert stored.version == 3
    assert [person["email"] for person in stored.contacts] == ["josef.oeztuerk@example.org"]


@pytest.mark.asyncio(loop_scope="session")
async def test_deleted_marks_the_replica_and_forgets_the_contacts(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, created(), contacts(1, [GRETE]), deleted(2))

    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.deleted
    assert replica.version == 2
    assert_no_personal_data(await contacts_replica(sessions))

    await deliver(sessions, reactions, updated(1, name="Zu spät"))  # stale after deletion
    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.name == NAME
    assert replica.deleted


@pytest.mark.asyncio(loop_scope="session")
async def test_a_welcome_not_yet_scheduled_is_never_scheduled_after_deletion(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    # The two topics are not ordered against each other: the alliance topic can be
    # through `created` and `deleted` before the contacts topic delivers anything.
    await deliver(sessions, reactions, created(), deleted(2))

    await deliver(sessions, reactions, contacts(1, [GRETE, JOSEF]))
    assert await deliveries(sessions) == []
    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.deleted
    assert not replica.welcome_scheduled
    # Contacts older than the deletion are not stored at all.
    assert_no_personal_data(await contacts_replica(sessions))

    await deliver(sessions, reactions, contacts(2, [], is_deleted=True))
    assert_no_personal_data(await contacts_replica(sessions))
    assert await deliveries(sessions) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_deleted_before_anything_else_leaves_a_tombstone_that_blocks_the_welcome(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, deleted(2))

    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.deleted
    assert replica.version == 2

    await deliver(sessions, reactions, created(), contacts(1, [GRETE]))
    assert await deliveries(sessions) == []


@pytest.mark.asyncio(loop_scope="session")
async def test_deletion_cancels_a_welcome_that_was_scheduled_but_not_sent(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, created(), contacts(1, [GRETE]))
    assert [row.status for row in await deliveries(sessions)] == ["pending"]

    await deliver(sessions, reactions, deleted(2))

    assert [row for row in await deliveries(sessions) if row.status == "pending"] == []


@pytest.mark.asyncio(loop_scope="session")
async def test_contacts_changed_with_deleted_removes_the_contacts(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, contacts(1, [GRETE]))
    assert await contacts_replica(sessions) is not None

    await deliver(sessions, reactions, contacts(2, [], is_deleted=True))

    assert_no_personal_data(await contacts_replica(sessions))
    # Deleting contacts nobody knows is fine, too.
    await deliver(sessions, reactions, contacts(5, [], is_deleted=True, alliance_id="other"))


@pytest.mark.asyncio(loop_scope="session")
async def test_contacts_older_than_their_deletion_are_never_stored_again(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    stale = contacts(1, [GRETE])
    await deliver(sessions, reactions, created(), deleted(2), contacts(2, [], is_deleted=True))
    assert_no_personal_data(await contacts_replica(sessions))

    await deliver(sessions, reactions, stale)

    assert_no_personal_data(await contacts_replica(sessions))


@pytest.mark.asyncio(loop_scope="session")
async def test_a_republished_snapshot_refreshes_the_replica_without_a_welcome(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    snapshot = updated(4, name="Neu veröffentlicht")
    snapshot = Envelope(
        type=ALLIANCE_SNAPSHOT, source=SOURCE, subject=ALLIANCE_ID, data=snapshot.data
    )
    await deliver(sessions, reactions, snapshot, contacts(4, [GRETE]))

    replica = await alliance_replica(sessions)
    assert replica is not None
    assert replica.name == "Neu veröffentlicht"
    assert replica.version == 4
    assert await deliveries(sessions) == []


# --- the routing table's other rows: the Servicebüro is told of entries and removals -----


@pytest.mark.asyncio(loop_scope="session")
async def test_the_servicebuero_is_told_of_a_new_alliance_once_with_an_unsubscribe_link(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    created_event = created()
    await deliver(sessions, reactions, created_event, created_event)

    (row,) = await deliveries(sessions, template="alliance_entered")
    assert row.recipient == SERVICEBUERO
    assert row.event_id == created_event.id
    assert row.category == "directory_changes"
    assert row.status == "pending"
    assert row.subject == f"Neu eingetragen: {NAME} ({CITY})"
    assert row.unsubscribe_url is not None
    assert row.unsubscribe_url.startswith("http://notifications.test/unsubscribe/")
    assert row.unsubscribe_url in row.body
    assert row.html_body is not None
    assert row.unsubscribe_url in row.html_body


@pytest.mark.asyncio(loop_scope="session")
async def test_the_servicebuero_is_told_of_a_removal_but_not_of_one_never_seen(
    sessions: Sessions, reactions: AllianceReactions
) -> None:
    await deliver(sessions, reactions, created(), deleted(2))
    await deliver(sessions, reactions, deleted(3, alliance_id="never-seen"))

    (row,) = await deliveries(sessions, template="alliance_removed")
    assert row.recipient == SERVICEBUERO
    assert row.subject == f"Ausgetragen: {NAME} ({CITY})"
    # The deletion cancels the contacts' mail, not the Servicebüro's notice of the entry.
    (entered,) = await deliveries(sessions, template="alliance_entered")
    assert entered.status == "pending"
