"""Reacting to alliance facts: keep local replicas, and queue the mails the routing
table names for them (the welcome once both the alliance and its contacts are known).

The public fact (`directory.alliance`) and the contacts (`directory.alliance-contacts`,
personal data) come on two topics, in no guaranteed order between them; whichever
arrives second schedules the welcome. Two instances may handle the two at the same
moment; a per-alliance lock (`lobu.shared.locks`) makes the second wait for the first,
so it sees the first one's rows (under READ COMMITTED it otherwise would not). Each
handler runs inside the consumer's transaction, together with the inbox entry, so its
effect happens once per event.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.models import (
    DUE_STATUSES,
    AllianceReplica,
    ContactsReplica,
    Delivery,
    DeliveryStatus,
)
from lobu.notifications.notifier import Notifier, Recipient
from lobu.notifications.routing import ROUTES, RecipientKind, Route, routes_for
from lobu.notifications.survey_mails import ALLIANCE_LOCK, SurveyMails
from lobu.shared import Envelope, read_event_data
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    AllianceContactsChanged,
    AllianceCreated,
    AllianceDeleted,
    AllianceUpdated,
    ContactPerson,
)
from lobu.shared.locks import lock_entity

logger = logging.getLogger(__name__)

# Every handler of an alliance's facts holds the per-alliance lock ALLIANCE_LOCK before
# it reads, so the second of two concurrent handlers sees what the first one committed.
__all__ = ["ALLIANCE_LOCK", "AllianceReactions"]


# The templates of mail to an alliance's contacts (the welcome, the survey mails):
# what a deletion cancels while unsent.
CONTACT_TEMPLATES = tuple(
    route.template for route in ROUTES if route.recipients is RecipientKind.ALLIANCE_CONTACTS
)
(WELCOME,) = routes_for(ALLIANCE_CREATED, RecipientKind.ALLIANCE_CONTACTS)


class AllianceReactions:
    """The handlers of alliance events."""

    def __init__(
        self, notifier: Notifier, *, servicebuero_address: str, directory_url: str
    ) -> None:
        self._notifier = notifier
        self._servicebuero = Recipient(address=servicebuero_address)
        self._directory_url = directory_url.rstrip("/")
        # The survey mails join the same alliance facts (held until contacts are known).
        self.surveys = SurveyMails(notifier)

    async def on_created(self, session: AsyncSession, envelope: Envelope) -> None:
        """Remember the alliance and that it is owed a welcome (a new one only)."""
        data = read_event_data(AllianceCreated, envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, data.id)
        replica = await _upsert_alliance(session, data)
        if replica.deleted:
            return
        if data.entry == "existing":
            # A member of the network entered from an earlier record: no welcome, and
            # nothing new for the Servicebüro; survey mail waiting for it goes out.
            await self.surveys.address_pending(session, data.id)
            return
        if replica.created_event_id is None:
            replica.created_event_id = envelope.id
            replica.created_version = data.version
        await self._notify_servicebuero(session, ALLIANCE_CREATED, envelope.id, replica)
        await self._schedule_welcome_if_ready(session, data.id)
        await self.surveys.address_pending(session, data.id)

    async def on_updated(self, session: AsyncSession, envelope: Envelope) -> None:
        """Keep the replica current; older versions are dropped."""
        data = read_event_data(AllianceUpdated, envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, data.id)
        await _upsert_alliance(session, data)
        await self.surveys.address_pending(session, data.id)

    async def on_deleted(self, session: AsyncSession, envelope: Envelope) -> None:
        """Forget the alliance's contacts and cancel mail that was not sent yet."""
        data = read_event_data(AllianceDeleted, envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, data.id)
        replica = await session.get(AllianceReplica, data.id)
        if replica is not None and replica.version >= data.version:
            return
        known = replica is not None
        if replica is None:
            replica = AllianceReplica(
                alliance_id=data.id, name="", city="", state="", version=data.version
            )
            session.add(replica)
        replica.version = data.version
        replica.deleted = True
        await _store_contacts(session, data.id, version=data.version, contacts=[])
        await self.surveys.forget_pending(session, data.id)
        await session.execute(
            update(Delivery)
            .where(
                col(Delivery.alliance_id) == data.id,
                col(Delivery.status).in_(DUE_STATUSES),
                col(Delivery.template).in_(CONTACT_TEMPLATES),
            )
            .values(status=DeliveryStatus.CANCELLED.value, last_error="the alliance was deleted")
        )
        if known:  # a deletion of an alliance never seen names nothing to tell
            await self._notify_servicebuero(session, ALLIANCE_DELETED, envelope.id, replica)

    async def on_contacts_changed(self, session: AsyncSession, envelope: Envelope) -> None:
        """Keep the contact replica current, then see whether a welcome is due.

        A deletion leaves a tombstone (no contacts, the version), so that an older
        event handled later, e.g. replayed from the dead-letter topic, cannot bring
        personal data back.
        """
        data = read_event_data(AllianceContactsChanged, envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, data.alliance_id)
        alliance = await session.get(AllianceReplica, data.alliance_id)
        if alliance is not None and alliance.deleted and alliance.version >= data.version:
            return
        stored = await session.get(ContactsReplica, data.alliance_id)
        if stored is not None and stored.version >= data.version:
            logger.info("dropping stale contacts v%d of %s", data.version, data.alliance_id)
            return
        contacts = [] if data.deleted else data.contacts
        # An address erased after this fact stays out of the replica (a replayed event).
        contacts = [c for c in contacts if not await self._notifier.erased(session, c.email)]
        await _store_contacts(session, data.alliance_id, version=data.version, contacts=contacts)
        await _cancel_welcomes_to_former_contacts(session, data.alliance_id, contacts)
        if contacts:
            await self._schedule_welcome_if_ready(session, data.alliance_id)
            await self.surveys.address_pending(session, data.alliance_id)

    async def _schedule_welcome_if_ready(self, session: AsyncSession, alliance_id: str) -> None:
        replica = await session.get(AllianceReplica, alliance_id)
        contacts = await session.get(ContactsReplica, alliance_id)
        if (
            replica is None
            or replica.deleted
            or replica.created_event_id is None
            or (replica.welcome_scheduled and not await _welcome_still_due(session, replica))
            or contacts is None
            or not contacts.contacts
            or contacts.version < (replica.created_version or 1)
        ):
            # An alliance entered without contacts is welcomed when its first ones arrive.
            return
        earlier = {
            row.recipient: row
            for row in (
                await session.scalars(
                    select(Delivery).where(
                        col(Delivery.event_id) == replica.created_event_id,
                        col(Delivery.template) == WELCOME.template,
                    )
                )
            ).all()
        }
        already: set[str] = set()
        for raw in contacts.contacts:
            contact = ContactPerson.model_validate(raw)
            address = contact.email.lower()
            if address in already:
                continue
            already.add(address)
            if (previous := earlier.get(address)) is not None:
                # Removed and listed again before the welcome went out: due again.
                if previous.status == DeliveryStatus.CANCELLED.value:
                    previous.status = DeliveryStatus.PENDING.value
                    previous.last_error = None
                continue
            await self._notifier.notify(
                session,
                route=WELCOME,
                event_id=replica.created_event_id,
                alliance_id=alliance_id,
                recipient=Recipient(
                    address=address,
                    values={"contact_name": contact.name, "contact_role": contact.role},
                    reason_values={
                        "role": f" ({contact.role})" if contact.role else "",
                        "alliance_name": replica.name,
                    },
                ),
                values=self._alliance_values(replica),
            )
        replica.welcome_scheduled = True

    async def _notify_servicebuero(
        self, session: AsyncSession, event_type: str, event_id: str, replica: AllianceReplica
    ) -> None:
        route: Route
        for route in routes_for(event_type, RecipientKind.SERVICEBUERO):
            await self._notifier.notify(
                session,
                route=route,
                event_id=event_id,
                alliance_id=replica.alliance_id,
                recipient=self._servicebuero,
                values=self._alliance_values(replica),
            )

    def _alliance_values(self, replica: AllianceReplica) -> dict[str, str]:
        """What every template about an alliance may name."""
        path = f"/buendnisse/{replica.slug}" if replica.slug else "/"
        return {
            "alliance_name": replica.name,
            "city": replica.city,
            "alliance_url": f"{self._directory_url}{path}",
        }


async def _welcome_still_due(session: AsyncSession, replica: AllianceReplica) -> bool:
    """True while no welcome of the alliance has gone out yet.

    Until then the welcome follows the contacts: a contact added in the meantime is
    welcomed too. Once one has been sent, later contacts get none (the welcome greets
    the alliance's entry, not each new contact).
    """
    sent = await session.scalar(
        select(col(Delivery.id))
        .where(
            col(Delivery.event_id) == replica.created_event_id,
            col(Delivery.template) == WELCOME.template,
            col(Delivery.status).in_([DeliveryStatus.SENT.value, DeliveryStatus.SENDING.value]),
        )
        .limit(1)
    )
    return sent is None


async def _cancel_welcomes_to_former_contacts(
    session: AsyncSession, alliance_id: str, contacts: list[ContactPerson]
) -> None:
    """Cancel welcomes not yet sent to people who are no longer the alliance's contacts."""
    replica = await session.get(AllianceReplica, alliance_id)
    if replica is None or replica.created_event_id is None:
        return
    current = [contact.email.lower() for contact in contacts]
    await session.execute(
        update(Delivery)
        .where(
            col(Delivery.event_id) == replica.created_event_id,
            col(Delivery.template) == WELCOME.template,
            col(Delivery.status).in_(DUE_STATUSES),
            col(Delivery.recipient).not_in(current),
        )
        .values(
            status=DeliveryStatus.CANCELLED.value, last_error="no longer a contact of the alliance"
        )
    )


async def _store_contacts(
    session: AsyncSession, alliance_id: str, *, version: int, contacts: list[ContactPerson]
) -> None:
    serialised = [contact.model_dump(mode="json") for contact in contacts]
    stored = await session.get(ContactsReplica, alliance_id)
    if stored is None:
        session.add(ContactsReplica(alliance_id=alliance_id, version=version, contacts=serialised))
    else:
        stored.version = version
        stored.contacts = serialised
    await session.flush()


async def _upsert_alliance(
    session: AsyncSession, data: AllianceCreated | AllianceUpdated
) -> AllianceReplica:
    replica = await session.get(AllianceReplica, data.id)
    if replica is None:
        replica = AllianceReplica(
            alliance_id=data.id,
            slug=data.slug,
            name=data.name,
            city=data.city,
            state=data.state,
            version=data.version,
        )
        session.add(replica)
        await session.flush()
        return replica
    if data.version > replica.version and not replica.deleted:
        replica.name, replica.city, replica.state = data.name, data.city, data.state
        replica.slug = data.slug
        replica.version = data.version
    return replica
