"""Tables of the sign-in: one-time links (hashed) and the audit of every sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class SignInLink(SQLModel, table=True):
    """A link mailed to a known address, until it is used or expires.

    Only the SHA-256 of the link's secret is stored. Using the link deletes the row in
    the same statement that reads it (single use, also with two clicks at once); the
    retention job deletes expired ones. The address stays only as long as the row
    does (at most the link's 15 minutes and one retention run), for the session's
    "Angemeldet als".
    """

    __tablename__ = "sign_in_links"
    __table_args__ = (Index("ix_sign_in_links_expires_at", "expires_at"),)

    token_hash: str = Field(primary_key=True, max_length=64)
    email: str = Field(max_length=320)
    role: str = Field(max_length=20)
    # The alliances the address is a contact of, when the link was sent (checked again).
    alliance_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    next_url: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class SignInAuditEntry(SQLModel, table=True):
    """One step of a sign-in, kept without the address: its keyed hash stands for it."""

    __tablename__ = "sign_in_audit"
    __table_args__ = (Index("ix_sign_in_audit_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    # link_sent, link_not_sent (unknown address), rate_limited, signed_in, link_refused,
    # alliance_switched, signed_out
    action: str = Field(max_length=30)
    address_hash: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=20)
    alliance_id: str | None = Field(default=None, max_length=36)
    session_id: str | None = Field(default=None, max_length=36)
    client_hash: str | None = Field(default=None, max_length=40)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
