"""Notifications' tables: local replicas of what other services announced, and deliveries."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class AllianceReplica(SQLModel, table=True):
    """What notifications knows of an alliance, from `directory.alliance`."""

    __tablename__ = "alliance_replicas"

    alliance_id: str = Field(primary_key=True, max_length=64)
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


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Delivery(SQLModel, table=True):
    """One email to one recipient because of one event; sent at most once per pair."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", name="uq_delivery_event_recipient"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),  # the dispatcher's query
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=64, index=True)
    event_type: str = Field(max_length=200)
    alliance_id: str | None = Field(default=None, max_length=64, index=True)
    channel: str = Field(default="email", max_length=20)
    recipient: str = Field(max_length=320)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
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
