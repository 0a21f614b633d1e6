"""Writing webhook deliveries for a public fact, inside the consumer's transaction.

Only public topics feed webhooks (never the contacts, the survey links or the
registrations: personal data). The body is the CloudEvent in structured JSON mode,
rendered once here, so every attempt sends (and signs) the same bytes; the
`webhook-id` is the event's id, the same across retries.
"""

from __future__ import annotations

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.notifications.models import Delivery, DeliveryStatus, WebhookStatus, WebhookSubscription
from lobu.shared import Envelope, utc_now
from lobu.shared.contracts.registry import EVENT_DEFINITIONS
from lobu.shared.topics import DIRECTORY_ALLIANCE, EVENTS_ACTION, SURVEYS_SURVEY

WEBHOOK = "webhook"
# Public topics only: their contracts have no personal data (a contract test says so).
WEBHOOK_TOPICS = (DIRECTORY_ALLIANCE, SURVEYS_SURVEY, EVENTS_ACTION)
WEBHOOK_EVENT_TYPES = frozenset(
    definition.type
    for definition in EVENT_DEFINITIONS.values()
    if definition.topic in WEBHOOK_TOPICS
)
# Subscriptions that collect deliveries (a paused one's wait for its resume).
RECEIVING = (WebhookStatus.ACTIVE.value, WebhookStatus.PAUSED.value)


def structured_body(envelope: Envelope) -> bytes:
    """The CloudEvent in structured JSON mode (`application/cloudevents+json`)."""
    event = CloudEvent(
        attributes={
            "id": envelope.id,
            "source": envelope.source,
            "type": envelope.type,
            "specversion": "1.0",
            "subject": envelope.subject,
            "time": envelope.time,
            "datacontenttype": "application/json",
        },
        data=dict(envelope.data),
    )
    return ce_http.to_structured_event(event).body


async def record_webhook_deliveries(session: AsyncSession, envelope: Envelope) -> int:
    """One pending delivery per receiving subscription of the event's type; how many."""
    if envelope.type not in WEBHOOK_EVENT_TYPES:
        return 0
    subscriptions = (
        await session.scalars(
            select(WebhookSubscription).where(col(WebhookSubscription.status).in_(RECEIVING))
        )
    ).all()
    wanted = [each for each in subscriptions if envelope.type in each.event_types]
    if not wanted:
        return 0
    body = structured_body(envelope).decode()
    insert = (
        postgresql_insert(Delivery)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite_insert(Delivery)
    )
    now = utc_now()
    alliance_id = envelope.subject if envelope.type.startswith("lobu.directory.") else None
    for subscription in wanted:
        await session.execute(
            insert.values(
                event_id=envelope.id,
                event_type=envelope.type,
                alliance_id=alliance_id,
                template=WEBHOOK,
                category=WEBHOOK,
                channel=WEBHOOK,
                recipient=subscription.id,
                subject=envelope.type[:300],
                body=body,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=now,
                next_attempt_at=now,
            ).on_conflict_do_nothing()
        )
    return len(wanted)
