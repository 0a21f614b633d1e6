"""Notifications' tables: local replicas of what other services announced, and deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now
from lobu.shared.tracing import TRACEPARENT_LENGTH, current_traceparent


class AllianceReplica(SQLModel, table=True):
    """What notifications knows of an alliance, from `directory.alliance`."""

    __tablename__ = "alliance_replicas"

    alliance_id: str = Field(primary_key=True, max_length=64)
    slug: str | None = Field(default=None, max_length=200)
    name: str = Field(max_length=200)
    city: str = Field(max_length=200)
    state: str = Field(max_length=2)
    version: int
    deleted: bool = False
    # The `created` event, once seen: the welcome mail is due for it.
    created_event_id: str | None = Field(default=None, max_length=64)
    created_version: int | None = None
    welcome_scheduled: bool = False


class ContactsReplica(SQLModel, table=True):
    """An alliance's contacts (personal data), from `directory.alliance-contacts`.

    After a deletion the row stays as a tombstone: no contacts, the deleting version.
    """

    __tablename__ = "contacts_replicas"

    alliance_id: str = Field(primary_key=True, max_length=64)
    version: int
    contacts: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))


class PendingSurveyMail(SQLModel, table=True):
    """A survey fact for an alliance whose contacts (or record) are not known yet.

    Written and read under the per-alliance lock; addressed and deleted when the
    alliance and its contacts are both known, deleted unsent when the alliance is. The
    data holds the personal link (a credential): the row lives only until then.
    """

    __tablename__ = "pending_survey_mails"

    event_id: str = Field(primary_key=True, max_length=64)
    event_type: str = Field(max_length=200)
    alliance_id: str = Field(max_length=64, index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class DeliveryStatus(StrEnum):
    """Where a delivery stands.

    pending -> sending -> sent; a failed attempt makes it retrying (due again after a
    back-off) and, after the last attempt or a permanent refusal, failed. cancelled: no
    longer wanted (the alliance was deleted, the contact removed). suppressed: the
    recipient opted out of its category; kept so the log says why nothing was sent.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"


# Statuses the dispatcher picks up once their next attempt is due.
DUE_STATUSES = (DeliveryStatus.PENDING.value, DeliveryStatus.RETRYING.value)
# Statuses in which a delivery may still go out (a contacts change can cancel them).
UNSENT_STATUSES = (*DUE_STATUSES, DeliveryStatus.SENDING.value)


class Delivery(SQLModel, table=True):
    """One message to one recipient on one channel because of one event; at most one.

    Subject and both parts are rendered when the delivery is written, so what is sent
    is what the log shows, whenever it is sent.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "recipient", "channel", name="uq_delivery_event_recipient_channel"
        ),
        Index("ix_deliveries_due", "status", "next_attempt_at"),  # the dispatcher's query
        Index("ix_deliveries_channel_due", "channel", "status", "next_attempt_at"),  # webhooks'
        Index("ix_deliveries_personal_until", "personal_until"),  # retention.py's sweep
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, index=True)
    event_type: str = Field(max_length=200)
    alliance_id: str | None = Field(default=None, max_length=64, index=True)
    template: str = Field(default="welcome", max_length=100)
    category: str = Field(default="transactional", max_length=50)
    channel: str = Field(default="email", max_length=20)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    unsubscribe_url: str | None = Field(default=None, max_length=500)
    # A citizen's message (contact_mails.py): answers go to the sender, not to us.
    reply_to: str | None = Field(default=None, max_length=320)
    # Set on deliveries whose body holds someone's personal data: body and reply_to are
    # erased once it is sent, or at this moment if it never was (retention.py).
    personal_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=20)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    next_attempt_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    sent_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    # The trace of the event that caused it (the consumer's span when it was written,
    # by ORM and Core inserts alike); sending it is a span of that trace.
    traceparent: str | None = Field(
        default=None,
        sa_column=Column(String(TRACEPARENT_LENGTH), nullable=True, default=current_traceparent),
    )


class MailRecipient(SQLModel, table=True):
    """An address that was ever written to, and the random key its links carry."""

    __tablename__ = "mail_recipients"

    address: str = Field(primary_key=True, max_length=320)
    key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Preference(SQLModel, table=True):
    """What one address chose for one category: immediate (the default), digest or off."""

    __tablename__ = "preferences"

    address: str = Field(primary_key=True, max_length=320)
    category: str = Field(primary_key=True, max_length=50)
    mode: str = Field(max_length=20)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class DigestItem(SQLModel, table=True):
    """One fact waiting for a recipient's daily digest of a category; in it once."""

    __tablename__ = "digest_items"
    __table_args__ = (
        UniqueConstraint("address", "category", "event_id", name="uq_digest_item_fact"),
        Index("ix_digest_items_open", "digest_delivery_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=320)
    category: str = Field(max_length=50)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=200)
    summary: str = Field(max_length=500)
    url: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # The digest delivery it went into; None while it waits.
    digest_delivery_id: int | None = Field(default=None)


class WebhookStatus(StrEnum):
    """Whether a subscription receives deliveries.

    active: yes. paused: by an admin; its deliveries wait and go out on resume.
    disabled: by lobu, after a 410 answer or too many failures in a row (`disabled_reason`);
    it gets no new deliveries until an admin resumes it.
    """

    ACTIVE = "active"
    PAUSED = "paused"
    DISABLED = "disabled"


class WebhookSubscription(SQLModel, table=True):
    """An outside receiver of public facts, signed per the Standard Webhooks specification.

    Its deliveries are rows of `deliveries` with channel `webhook` and the subscription's
    id as recipient, so the mail log, manual retry and metrics serve them too. The
    secrets sign (they cannot be hashed): only admins reach them, once, when created.
    """

    __tablename__ = "webhook_subscriptions"

    id: str = Field(primary_key=True, max_length=64)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default=WebhookStatus.ACTIVE.value, max_length=20)
    secret: str = Field(max_length=100)
    # After a rotation: the former secret, which signs too until `previous_secret_until`.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    consecutive_failures: int = 0
    disabled_reason: str | None = Field(default=None, max_length=300)
    disabled_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
