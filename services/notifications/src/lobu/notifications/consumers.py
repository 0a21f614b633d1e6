"""Kafka subscriptions of notifications: which event types go to which handler.

One consumer group follows every topic notifications mails from: the directory's two
alliance topics, its contact messages and sign-in links, `surveys.invitation` and
`events.registration`.
One group keeps one inbox and one set of partitions per instance; the handlers are
keyed by event type, which are unique across topics, and the joins lock per alliance,
not per topic.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from lobu.notifications.contact_mails import ContactMessageMails
from lobu.notifications.registration_mails import FACTS as REGISTRATION_FACTS
from lobu.notifications.registration_mails import RegistrationMails
from lobu.notifications.service import AllianceReactions
from lobu.notifications.sign_in_mails import SignInLinkMails
from lobu.notifications.survey_mails import FACTS as SURVEY_FACTS
from lobu.notifications.webhook_fanout import (
    WEBHOOK_EVENT_TYPES,
    WEBHOOK_TOPICS,
    record_webhook_deliveries,
)
from lobu.shared import Envelope, EventHandler, ServiceRuntime
from lobu.shared.contracts.directory import (
    ALLIANCE_CONTACTS_CHANGED,
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
    CONTACT_MESSAGE_SUBMITTED,
    SIGN_IN_LINK_REQUESTED,
)
from lobu.shared.contracts.events import REGISTRATIONS_LISTED
from lobu.shared.topics import (
    DIRECTORY_ALLIANCE,
    DIRECTORY_ALLIANCE_CONTACTS,
    DIRECTORY_CONTACT_MESSAGE,
    DIRECTORY_SIGN_IN_LINK,
    EVENTS_REGISTRATION,
    SURVEYS_INVITATION,
)

CONSUMER_GROUP = "notifications"


def alliance_handlers(reactions: AllianceReactions) -> dict[str, EventHandler]:
    """Which handler each alliance and survey event type goes to (unknown types are ignored)."""
    handlers: dict[str, EventHandler] = {
        ALLIANCE_CREATED: reactions.on_created,
        ALLIANCE_UPDATED: reactions.on_updated,
        # A republished snapshot refreshes the replica like an update (no welcome).
        ALLIANCE_SNAPSHOT: reactions.on_updated,
        ALLIANCE_DELETED: reactions.on_deleted,
        ALLIANCE_CONTACTS_CHANGED: reactions.on_contacts_changed,
    }
    for event_type in SURVEY_FACTS:
        handlers[event_type] = reactions.surveys.on_invitation_fact
    return handlers


def registration_handlers(mails: RegistrationMails) -> dict[str, EventHandler]:
    """Which handler each registration event type goes to."""
    handlers: dict[str, EventHandler] = dict.fromkeys(
        REGISTRATION_FACTS, mails.on_registration_fact
    )
    handlers[REGISTRATIONS_LISTED] = mails.on_registrations_listed
    return handlers


def with_webhooks(handlers: dict[str, EventHandler]) -> dict[str, EventHandler]:
    """Every public event type also writes its webhook deliveries, in the same transaction."""
    combined = dict(handlers)
    for event_type in WEBHOOK_EVENT_TYPES:
        combined[event_type] = _and_webhooks(handlers.get(event_type))
    return combined


def _and_webhooks(handler: EventHandler | None) -> EventHandler:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        if handler is not None:
            await handler(session, envelope)
        await record_webhook_deliveries(session, envelope)

    return handle


def subscribe_to_alliances(
    runtime: ServiceRuntime,
    reactions: AllianceReactions,
    registrations: RegistrationMails | None = None,
    *,
    contact_messages: ContactMessageMails | None = None,
    sign_in_links: SignInLinkMails | None = None,
    webhooks: bool = False,
) -> None:
    """Follow the alliance, survey-invitation and registration topics in one group.

    With `contact_messages`, also citizens' messages to alliances; with `sign_in_links`,
    the directory's sign-in links; with `webhooks`, also the public topics outside
    subscribers may receive.
    """
    handlers = alliance_handlers(reactions)
    topics = [DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS, SURVEYS_INVITATION]
    if registrations is not None:
        handlers |= registration_handlers(registrations)
        topics.append(EVENTS_REGISTRATION)
    if contact_messages is not None:
        handlers[CONTACT_MESSAGE_SUBMITTED] = contact_messages.on_contact_message
        topics.append(DIRECTORY_CONTACT_MESSAGE)
    if sign_in_links is not None:
        handlers[SIGN_IN_LINK_REQUESTED] = sign_in_links.on_sign_in_link
        topics.append(DIRECTORY_SIGN_IN_LINK)
    if webhooks:
        handlers = with_webhooks(handlers)
        topics += [topic for topic in WEBHOOK_TOPICS if topic not in topics]
    runtime.add_consumer(name=CONSUMER_GROUP, topics=topics, handlers=handlers)
