"""The table of Idempotency-Keys a service has seen (see lobu.shared.idempotency)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary
from sqlmodel import Field, SQLModel

from lobu.shared.clock import utc_now


class IdempotencyKey(SQLModel, table=True):
    """A request made with an Idempotency-Key, and its response once there is one.

    `locked_until` is set while the first request runs (its lease); it is NULL once the
    response is stored. Rows go after a day through the retention job.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)

    scope: str = Field(primary_key=True, max_length=200)  # the caller the key belongs to
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)  # SHA-256 of method, path, query and body
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    locked_until: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    status_code: int | None = None
    response_headers: list[Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    response_body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
