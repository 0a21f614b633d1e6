"""Aktionstag mails: the registration facts of `events.registration`, to the participant,
and the day-before list of who is coming, to the alliance's contacts (its coordinators).

The fact names its recipient (`email`, greeted by `name`); every one is transactional
(the participant asked for it). Times are shown in Europe/Berlin. Name and address are
personal data: nothing here logs them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from lobu.notifications.models import AllianceReplica, ContactsReplica
from lobu.notifications.notifier import Notifier, Recipient
from lobu.notifications.routing import RecipientKind, Route, routes_for
from lobu.notifications.survey_mails import berlin
from lobu.shared import Envelope, read_event_data
from lobu.shared.contracts.directory import ContactPerson
from lobu.shared.contracts.events import (
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_PROMOTED,
    REGISTRATION_REMINDED,
    REGISTRATION_WAITLISTED,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationFact,
    RegistrationPromoted,
    RegistrationReminded,
    RegistrationsListed,
    RegistrationWaitlisted,
)

FACTS: dict[str, type[RegistrationFact]] = {
    REGISTRATION_CONFIRMED: RegistrationConfirmed,
    REGISTRATION_WAITLISTED: RegistrationWaitlisted,
    REGISTRATION_PROMOTED: RegistrationPromoted,
    REGISTRATION_CANCELLED: RegistrationCancelled,
    REGISTRATION_REMINDED: RegistrationReminded,
}


def registration_values(fact: RegistrationFact) -> dict[str, Any]:
    """What the registration templates name."""
    return {
        "action_title": fact.action_title,
        "alliance_name": fact.alliance_name,
        "starts_on": berlin(fact.starts_at, "%d.%m.%Y"),
        "starts_time": berlin(fact.starts_at, "%H:%M"),
        "place_line": fact.place or fact.online_url or "online",
        "online_url": fact.online_url if not fact.place else None,
        "seats": fact.seats,
        "cancel_url": fact.cancel_url,
        "seats_ahead": getattr(fact, "seats_ahead", 0),
        "cancel_reason": getattr(fact, "reason", None),  # "reason" is the footer's
    }


class RegistrationMails:
    """The handler of `events.registration`."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def on_registration_fact(self, session: AsyncSession, envelope: Envelope) -> None:
        """Write the participant's mail for the fact (once per event and address)."""
        fact = read_event_data(FACTS[envelope.type], envelope.data)
        route: Route
        for route in routes_for(envelope.type, RecipientKind.EVENT_PARTICIPANTS):
            await self._notifier.notify(
                session,
                route=route,
                event_id=envelope.id,
                alliance_id=fact.alliance_id,
                recipient=Recipient(address=str(fact.email), values={"name": fact.name}),
                values=registration_values(fact),
            )

    async def on_registrations_listed(self, session: AsyncSession, envelope: Envelope) -> None:
        """The list of who is coming, to each contact of the alliance (once per address).

        The contacts are those of the replica now; an alliance whose contacts are not
        known (or that left the directory) gets no list.
        """
        fact = read_event_data(RegistrationsListed, envelope.data)
        alliance = await session.get(AllianceReplica, fact.alliance_id)
        contacts = await session.get(ContactsReplica, fact.alliance_id)
        if alliance is None or alliance.deleted or contacts is None:
            return
        values = {
            "action_title": fact.action_title, "alliance_name": alliance.name,
            "starts_on": berlin(fact.starts_at, "%d.%m.%Y"),
            "starts_time": berlin(fact.starts_at, "%H:%M"),
            "place_line": fact.place or fact.online_url or "online",
            "participants": [
                p.model_dump(mode="json") for p in fact.participants
                if not await self._notifier.erased(session, p.email)
            ],
            "seats_confirmed": fact.seats_confirmed, "seats_waiting": fact.seats_waiting,
            "capacity": fact.capacity,
        }  # fmt: skip
        seen: set[str] = set()
        for route in routes_for(envelope.type, RecipientKind.ALLIANCE_CONTACTS):
            for raw in contacts.contacts:
                contact = ContactPerson.model_validate(raw)
                if contact.email.lower() in seen:
                    continue
                seen.add(contact.email.lower())
                await self._notifier.notify(
                    session, route=route, event_id=envelope.id, alliance_id=fact.alliance_id,
                    recipient=Recipient(
                        address=contact.email,
                        values={"contact_name": contact.name},
                        reason_values={"role": f" ({contact.role})" if contact.role else "",
                                       "alliance_name": alliance.name},
                    ),
                    values=values,
                )  # fmt: skip
