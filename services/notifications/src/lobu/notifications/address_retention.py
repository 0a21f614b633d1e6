"""The delivery log forgets whom it mailed: addresses go after `delivery_address_retention`.

The log answers "did this alliance get its welcome?" for months; whom exactly it went
to is needed only while a mail can still bounce, be retried or be asked about. After
the period (180 days by default) a finished email delivery keeps its event, template,
status and times, and loses its recipient (`gelöscht:<id>`, unique as the log's key
needs), subject, bodies, links and Reply-To: the same shape an erasure on request
leaves (privacy.py). Unfinished ones wait until they are finished. It is a rule of the
shared retention job (anonymise, not delete), so it has its metrics.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, literal
from sqlmodel import col

from lobu.notifications.models import Delivery, DeliveryStatus
from lobu.notifications.privacy import ERASED_PREFIX, ERASED_TEXT
from lobu.shared.retention import RetentionJob, RetentionRule

FINISHED = (
    DeliveryStatus.SENT.value,
    DeliveryStatus.CANCELLED.value,
    DeliveryStatus.SUPPRESSED.value,
    DeliveryStatus.FAILED.value,
)


def _still_addressed(_cutoff: datetime) -> ColumnElement[bool]:
    return and_(
        col(Delivery.channel) == "email",
        col(Delivery.status).in_(FINISHED),
        col(Delivery.recipient).not_like(f"{ERASED_PREFIX}%"),
    )


def declare_address_retention(job: RetentionJob, retention: timedelta) -> None:
    """Declare the rule with the period `retention` (a timedelta from the settings)."""
    job.declare(
        RetentionRule(
            name="delivery_addresses",
            table=Delivery,
            period=retention,
            column=col(Delivery.created_at),
            condition=_still_addressed,
            anonymise={
                "recipient": literal(ERASED_PREFIX, String) + cast(col(Delivery.id), String),
                "subject": ERASED_TEXT,
                "body": "",
                "html_body": None,
                "unsubscribe_url": None,
                "reply_to": None,
                "personal_until": None,
            },
        )
    )
