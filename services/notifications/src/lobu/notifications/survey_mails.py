"""Survey mails: the invitation, reminders and receipt of `surveys.invitation`, to the
contacts of the invited alliance, each with the alliance's personal answer link.

The survey fact and the alliance's contacts come on different topics in no guaranteed
order. A fact for an alliance whose record or contacts notifications does not know yet
is held in `pending_survey_mails`; whichever of the two arrives second addresses it:
the survey handler when the contacts are already there, the alliance handlers
(service.py) when the contacts or the record come later. Both hold the per-alliance
lock (`notifications.alliance`) before they read, so of two concurrent transactions the
second sees what the first committed. A held invitation or reminder whose survey has
closed in the meantime is dropped; a held receipt is still sent.

The link is a credential: it is written to the delivery row (admin-only, its body is
shown by no API) and to the pending row until it is addressed, and never logged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.models import AllianceReplica, ContactsReplica, PendingSurveyMail
from lobu.notifications.notifier import Notifier, Recipient
from lobu.notifications.routing import RecipientKind, Route, routes_for
from lobu.shared import Envelope, as_utc, read_event_data, utc_now
from lobu.shared.contracts.directory import ContactPerson
from lobu.shared.contracts.surveys import (
    INVITATION_ANSWERED,
    INVITATION_ISSUED,
    INVITATION_REMINDED,
    InvitationAnswered,
    InvitationFact,
    InvitationIssued,
    InvitationReminded,
)
from lobu.shared.locks import lock_entity

# The per-alliance lock every handler of an alliance's facts holds before it reads.
ALLIANCE_LOCK = "notifications.alliance"
BERLIN = ZoneInfo("Europe/Berlin")

FACTS: dict[str, type[InvitationFact]] = {
    INVITATION_ISSUED: InvitationIssued,
    INVITATION_REMINDED: InvitationReminded,
    INVITATION_ANSWERED: InvitationAnswered,
}


def berlin(moment: datetime, pattern: str) -> str:
    """`moment` as the recipients read it: German local time."""
    return as_utc(moment).astimezone(BERLIN).strftime(pattern)


def survey_values(fact: InvitationFact) -> dict[str, Any]:
    """What the survey templates name (times in Europe/Berlin)."""
    values: dict[str, Any] = {
        "title": fact.title,
        "link": fact.link,
        "closes_on": berlin(fact.closes_at, "%d.%m.%Y"),
        "intro": "",
    }
    if isinstance(fact, InvitationIssued):
        values["intro"] = fact.intro.strip()
    if isinstance(fact, InvitationReminded):
        values["days_before"] = fact.days_before
    if isinstance(fact, InvitationAnswered):
        values["submitted_on"] = berlin(fact.submitted_at, "%d.%m.%Y um %H:%M Uhr")
        values["replaced"] = fact.replaced
    return values


class SurveyMails:
    """The handler of `surveys.invitation`, and the addressing of held survey mails."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    async def on_invitation_fact(self, session: AsyncSession, envelope: Envelope) -> None:
        """Address the fact to the alliance's contacts now, or hold it until they are known."""
        fact = read_event_data(FACTS[envelope.type], envelope.data)
        await lock_entity(session, ALLIANCE_LOCK, fact.alliance_id)
        alliance = await session.get(AllianceReplica, fact.alliance_id)
        if alliance is not None and alliance.deleted:
            return  # the alliance left the directory: nobody to write to
        if await self._ready(session, fact.alliance_id):
            await self._address(session, envelope.type, envelope.id, fact)
            return
        if await session.get(PendingSurveyMail, envelope.id) is None:
            session.add(
                PendingSurveyMail(
                    event_id=envelope.id,
                    event_type=envelope.type,
                    alliance_id=fact.alliance_id,
                    data=dict(envelope.data),
                )
            )
            await session.flush()

    async def address_pending(self, session: AsyncSession, alliance_id: str) -> None:
        """Send what was held for the alliance, once its record and contacts are known.

        The caller holds the alliance's lock.
        """
        if not await self._ready(session, alliance_id):
            return
        held = (
            await session.scalars(
                select(PendingSurveyMail)
                .where(col(PendingSurveyMail.alliance_id) == alliance_id)
                .order_by(col(PendingSurveyMail.created_at))
            )
        ).all()
        now = utc_now()
        for row in held:
            fact = read_event_data(FACTS[row.event_type], row.data)
            if row.event_type == INVITATION_ANSWERED or as_utc(fact.closes_at) > now:
                await self._address(session, row.event_type, row.event_id, fact)
            await session.delete(row)
        await session.flush()

    async def forget_pending(self, session: AsyncSession, alliance_id: str) -> None:
        """Drop what was held for a deleted alliance (it holds personal links)."""
        await session.execute(
            delete(PendingSurveyMail).where(col(PendingSurveyMail.alliance_id) == alliance_id)
        )

    async def _ready(self, session: AsyncSession, alliance_id: str) -> bool:
        alliance = await session.get(AllianceReplica, alliance_id)
        contacts = await session.get(ContactsReplica, alliance_id)
        return (
            alliance is not None
            and not alliance.deleted
            and contacts is not None
            and bool(contacts.contacts)
        )

    async def _address(
        self, session: AsyncSession, event_type: str, event_id: str, fact: InvitationFact
    ) -> None:
        alliance = await session.get(AllianceReplica, fact.alliance_id)
        contacts = await session.get(ContactsReplica, fact.alliance_id)
        if alliance is None or contacts is None:
            return
        values = {**survey_values(fact), "alliance_name": alliance.name, "city": alliance.city}
        route: Route
        for route in routes_for(event_type, RecipientKind.ALLIANCE_CONTACTS):
            seen: set[str] = set()
            for raw in contacts.contacts:
                contact = ContactPerson.model_validate(raw)
                address = contact.email.lower()
                if address in seen:
                    continue
                seen.add(address)
                await self._notifier.notify(
                    session,
                    route=route,
                    event_id=event_id,
                    alliance_id=fact.alliance_id,
                    recipient=Recipient(
                        address=address,
                        values={"contact_name": contact.name, "contact_role": contact.role},
                        reason_values={
                            "role": f" ({contact.role})" if contact.role else "",
                            "alliance_name": alliance.name,
                        },
                    ),
                    values=values,
                )
