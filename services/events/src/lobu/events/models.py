"""The events service's tables."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class ActionState(StrEnum):
    """Where an action is in its lifecycle (see docs/events.md)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    PUBLISHED = "published"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    """Whether a registration holds seats, waits for them, or has ended."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


def _moment(nullable: bool = False) -> Column[datetime]:
    return Column(DateTime(timezone=True), nullable=nullable)


class Edition(SQLModel, table=True):
    """One year's Aktionstag; alliances enter actions between entry_opens_at and _closes_at."""

    __tablename__ = "editions"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    date: dt.date = Field(sa_column=Column(Date, nullable=False))
    motto: str | None = Field(default=None, max_length=200)
    info: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    entry_opens_at: datetime = Field(sa_column=_moment())
    entry_closes_at: datetime = Field(sa_column=_moment())
    created_at: datetime = Field(default_factory=utc_now, sa_column=_moment())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_moment())


class AllianceReplica(SQLModel, table=True):
    """What events knows of an alliance, from `directory.alliance`; newest version wins."""

    __tablename__ = "programme_alliances"

    id: str = Field(primary_key=True, max_length=64)
    slug: str = Field(default="", max_length=120)
    name: str = Field(default="", max_length=200)
    state: str = Field(default="", max_length=2)
    city: str = Field(default="", max_length=200)
    postal_code: str = Field(default="", max_length=5)
    latitude: float | None = None
    longitude: float | None = None
    status: str = Field(default="active", max_length=20)
    version: int = 0
    # A tombstone: an older, late event must not bring a deleted alliance back.
    deleted: bool = False
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_moment())


class Action(SQLModel, table=True):
    """An alliance's action on the Aktionstag; `version` grows with every change."""

    __tablename__ = "actions"
    __table_args__ = (
        Index("ix_actions_programme", "edition_year", "state", "starts_at", "id"),
        Index("ix_actions_alliance", "alliance_id"),
        Index("ix_actions_location", "latitude", "longitude"),
        # The last line of defence: even a bug in the locking cannot oversell.
        CheckConstraint(
            "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)",
            name="ck_actions_seats_within_capacity",
        ),
    )

    id: str = Field(primary_key=True, max_length=36)
    edition_year: int = Field(
        sa_column=Column(ForeignKey("editions.year", ondelete="RESTRICT"), nullable=False)
    )
    alliance_id: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    starts_at: datetime = Field(sa_column=_moment())
    ends_at: datetime = Field(sa_column=_moment())
    online: bool = False
    online_url: str | None = Field(default=None, max_length=500)
    street: str | None = Field(default=None, max_length=200)
    postal_code: str | None = Field(default=None, max_length=5)
    city: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    target_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    accessibility: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    capacity: int | None = None
    registration_required: bool = False
    state: str = Field(default=ActionState.DRAFT.value, max_length=20)
    rejection_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    cancellation_reason: str | None = Field(default=None, max_length=40)
    # Seats held by confirmed registrations (kept in step under the action's lock).
    seats_taken: int = 0
    # Grows by one with every lock of the action's registrations (service/locking.py);
    # the number a registration's lock claims is its place in the order of arrival.
    serial: int = 0
    # Title, description, place and alliance name, normalised (lobu.shared.text_search).
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    version: int = 1
    created_at: datetime = Field(default_factory=utc_now, sa_column=_moment())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=_moment())


class Registration(SQLModel, table=True):
    """A participant's request for seats at an action (personal data)."""

    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("action_id", "arrival", name="uq_registrations_arrival"),
        Index("ix_registrations_waiting", "action_id", "status", "arrival"),
    )

    id: str = Field(primary_key=True, max_length=36)
    action_id: str = Field(
        sa_column=Column(String(36), ForeignKey("actions.id", ondelete="CASCADE"), nullable=False)
    )
    arrival: int
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    seats: int
    status: str = Field(max_length=20)
    # SHA-256 of the secret in the cancel link; the secret itself is never stored.
    token_hash: str = Field(max_length=64)
    promoted: bool = False
    cancellation_reason: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utc_now, sa_column=_moment())
    confirmed_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))
    cancelled_at: datetime | None = Field(default=None, sa_column=_moment(nullable=True))


class ActionAudit(SQLModel, table=True):
    """Who did what to an action, and when (readable by admins and its coordinators)."""

    __tablename__ = "action_audit"

    id: int | None = Field(default=None, primary_key=True)
    action_id: str = Field(max_length=36, index=True)
    version: int
    step: str = Field(max_length=80)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=20)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    at: datetime = Field(default_factory=utc_now, sa_column=_moment())


class ReminderSent(SQLModel, table=True):
    """That a reminder went out: its primary key is the guard against sending it twice.

    `kind` is `participant` (subject: a registration) or `roster` (subject: an action,
    whose coordinators got the list of who is coming).
    """

    __tablename__ = "action_reminders_sent"

    kind: str = Field(primary_key=True, max_length=20)
    subject_id: str = Field(primary_key=True, max_length=36)
    # The action reminded of: the row is deleted with its participants' data (retention).
    action_id: str = Field(max_length=36)
    sent_at: datetime = Field(default_factory=utc_now, sa_column=_moment())
