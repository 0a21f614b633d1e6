"""The directory's tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class Alliance(SQLModel, table=True):
    """A Lokales Bündnis für Familie; `version` grows by one with every change."""

    __tablename__ = "alliances"
    # (name, id) is the list order and the keyset of its cursor.
    __table_args__ = (
        Index("ix_alliances_name", "name", "id"),
        Index("ix_alliances_slug", "slug", unique=True),
        Index("ix_alliances_state", "state"),
        Index("ix_alliances_status", "status"),
        Index("ix_alliances_location", "latitude", "longitude"),
    )

    id: str = Field(primary_key=True, max_length=36)
    slug: str = Field(max_length=120)
    name: str = Field(max_length=200)
    state: str = Field(max_length=2)
    district: str | None = Field(default=None, max_length=200)
    municipality: str | None = Field(default=None, max_length=200)
    postal_code: str = Field(max_length=5)
    city: str = Field(max_length=200)
    street: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    # True when the coordinates were filled in from the gazetteer (the town's centre).
    coordinates_approximate: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    founded_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    status: str = Field(default="active", max_length=20)
    staffing: str | None = Field(default=None, max_length=20)
    website: str | None = Field(default=None, max_length=500)
    social_media: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    coordinating_organisation: str | None = Field(default=None, max_length=200)
    # Personal data: never in public responses or on the public topic.
    contacts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Name, places, coordination, partner names and the labels of fields of action and
    # partner types, lower-cased with umlauts spelt out (ä → ae, ß → ss), so that
    # "Lüneburg" and "Lueneburg" find the same alliance (lobu.shared.text_search).
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Name and town spelt the same way: the relevance tiers compare the term with them.
    name_key: str = Field(default="", sa_column=Column(Text, nullable=False))
    place_key: str = Field(default="", sa_column=Column(Text, nullable=False))
    # The codes of its fields of action in their order, a copy of `alliance_topics` kept
    # by triggers (migration 0011): the search's topic facet counts them without a join.
    topic_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int = 1
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


def _alliance_key() -> Any:
    return Column(String(36), ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True)


class AllianceTopic(SQLModel, table=True):
    """One field of action an alliance works on (a row each, so filters can use an index)."""

    __tablename__ = "alliance_topics"

    alliance_id: str = Field(sa_column=_alliance_key())
    topic: str = Field(primary_key=True, max_length=200, index=True)
    position: int = 0


class AlliancePartner(SQLModel, table=True):
    """An organisation taking part in an alliance."""

    __tablename__ = "alliance_partners"

    alliance_id: str = Field(sa_column=_alliance_key())
    position: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    name: str = Field(max_length=200)
    type: str = Field(max_length=40, index=True)


class AllianceAward(SQLModel, table=True):
    """A distinction an alliance received in a year."""

    __tablename__ = "alliance_awards"

    alliance_id: str = Field(sa_column=_alliance_key())
    award: str = Field(primary_key=True, max_length=60, index=True)
    year: int = Field(primary_key=True)


class AuditEntry(SQLModel, table=True):
    """Who changed which fields of an alliance, and when (readable by admins)."""

    __tablename__ = "alliance_audit"

    id: int | None = Field(default=None, primary_key=True)
    alliance_id: str = Field(max_length=36, index=True)
    version: int
    action: str = Field(max_length=80)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=20)
    changed_fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ContactRateWindow(SQLModel, table=True):
    """How many contact messages one key sent in one fixed window (the rate limit).

    `key` is `alliance:<id>` or `client:<hash of the address>`, never the address itself.
    Incremented by one atomic upsert per message (contact.py); old windows are deleted.
    """

    __tablename__ = "contact_rate_windows"
    __table_args__ = (Index("ix_contact_rate_windows_start", "window_start"),)

    key: str = Field(primary_key=True, max_length=80)
    window_start: datetime = Field(
        sa_column=Column(DateTime(timezone=True), primary_key=True, nullable=False)
    )
    count: int = 0
