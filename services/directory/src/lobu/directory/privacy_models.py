"""The privacy requests the Servicebüro entered, and each service's answer.

The audit of the privacy flow: who asked what, when, and what each service answered,
kept without the address (only its keyed hash, lobu.shared.privacy). The one place
personal data lives here is `PrivacyAnswer.export`: an access request's found records,
until the export period ends (retention) or the address is erased.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, String
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class PrivacyRequest(SQLModel, table=True):
    """One request for one address: access (Art. 15/20 DSGVO) or erasure (Art. 17)."""

    __tablename__ = "privacy_requests"

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=20)
    address_hash: str = Field(max_length=64, index=True)
    requested_by: str = Field(max_length=200)
    # pending until every service in `services` has answered, then done.
    state: str = Field(default="pending", max_length=20)
    services: list[str] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    completed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


class PrivacyAnswer(SQLModel, table=True):
    """One service's answer; its primary key takes each service's answer once."""

    __tablename__ = "privacy_answers"

    request_id: str = Field(
        sa_column=Column(
            String(36),
            ForeignKey("privacy_requests.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    service: str = Field(primary_key=True, max_length=50)
    # Audit without personal data: records found per category (access), erased (erasure).
    counts: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))
    # Access only: the records themselves (personal data), for the export document.
    export: dict[str, list[dict[str, Any]]] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    answered_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
