"""The directory's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, String
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class Alliance(SQLModel, table=True):
    """A Lokales Bündnis für Familie; `version` grows by one with every change."""

    __tablename__ = "alliances"
    # (name, id) is the list order and the keyset of its cursor.
    __table_args__ = (
        Index("ix_alliances_name", "name", "id"),
        Index("ix_alliances_state", "state"),
    )

    id: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    state: str = Field(max_length=2)
    postal_code: str = Field(max_length=5)
    city: str = Field(max_length=200)
    # Personal data: never in public responses or on the public topic.
    contacts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    version: int = 1
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class AllianceTopic(SQLModel, table=True):
    """One field of action an alliance works on (a row each, so filters can use an index)."""

    __tablename__ = "alliance_topics"

    alliance_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True
        )
    )
    topic: str = Field(primary_key=True, max_length=200, index=True)
    position: int = 0
