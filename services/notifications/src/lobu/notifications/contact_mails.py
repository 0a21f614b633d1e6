"""A citizen's message to an alliance (`directory.contact-message`), to its contacts.

Each contact in the replica gets the message with Reply-To the sender, so that the
sender learns a contact's address only when that contact answers. An alliance with no
contacts known (none entered, or not yet replicated) has its message go to the
Servicebüro's mailbox instead, which says why. Sender and text are personal data: the
deliveries carry `personal_until`, so retention.py erases them once sent, or after
`contact_message_retention_days` at the latest; nothing here logs them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lobu.notifications.models import ContactsReplica
from lobu.notifications.notifier import Notifier, Recipient
from lobu.notifications.routing import Category, RecipientKind, Route, routes_for
from lobu.notifications.survey_mails import ALLIANCE_LOCK
from lobu.shared import Envelope, as_utc, read_event_data
from lobu.shared.contracts.directory import (
    CONTACT_MESSAGE_SUBMITTED,
    ContactMessageSubmitted,
    ContactPerson,
)
from lobu.shared.locks import lock_entity

(TO_CONTACTS,) = routes_for(CONTACT_MESSAGE_SUBMITTED, RecipientKind.ALLIANCE_CONTACTS)
# Not in the routing table: taken only when the alliance has no contacts to write to.
TO_SERVICEBUERO = Route(
    CONTACT_MESSAGE_SUBMITTED, "contact_message", RecipientKind.SERVICEBUERO, Category.TRANSACTIONAL
)


class ContactMessageMails:
    """The handler of `lobu.directory.contact-message.submitted.v1`."""

    def __init__(
        self, notifier: Notifier, *, servicebuero_address: str, retention_days: int
    ) -> None:
        self._notifier = notifier
        self._servicebuero = servicebuero_address
        self._retention = timedelta(days=retention_days)

    async def on_contact_message(self, session: AsyncSession, envelope: Envelope) -> None:
        """Write one delivery per contact (or one to the Servicebüro), Reply-To the sender."""
        fact = read_event_data(ContactMessageSubmitted, envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, fact.alliance_id)
        stored = await session.get(ContactsReplica, fact.alliance_id)
        contacts = [
            ContactPerson.model_validate(raw) for raw in (stored.contacts if stored else [])
        ]
        until = as_utc(fact.submitted_at) + self._retention
        values = _values(fact)
        if not contacts:
            await self._write(session, TO_SERVICEBUERO, envelope=envelope, fact=fact,
                              address=self._servicebuero, until=until,
                              values=values | {"contact_name": "", "fallback": True})  # fmt: skip
            return
        for contact in {contact.email.lower(): contact for contact in contacts}.values():
            recipient_values = values | {"contact_name": contact.name, "fallback": False}
            await self._write(session, TO_CONTACTS, envelope=envelope, fact=fact,
                              address=str(contact.email), values=recipient_values, until=until,
                              role=f" ({contact.role})" if contact.role else "")  # fmt: skip

    async def _write(
        self,
        session: AsyncSession,
        route: Route,
        *,
        envelope: Envelope,
        fact: ContactMessageSubmitted,
        address: str,
        values: dict[str, Any],
        until: datetime,
        role: str = "",
    ) -> None:
        await self._notifier.notify(
            session,
            route=route,
            event_id=envelope.id,
            alliance_id=fact.alliance_id,
            recipient=Recipient(
                address=address,
                reason_values={"role": role, "alliance_name": fact.alliance_name},
            ),
            values=values,
            reply_to=str(fact.sender_email),
            personal_until=until,
        )


def _values(fact: ContactMessageSubmitted) -> dict[str, Any]:
    """What the contact_message templates name."""
    return {
        "alliance_name": fact.alliance_name,
        "sender_name": fact.sender_name,
        "sender_email": str(fact.sender_email),
        "message": fact.message,
    }
