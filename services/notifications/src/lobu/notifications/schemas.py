"""Notifications' HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DeliveryView(BaseModel):
    """One delivery as admins see it (the recipient is personal data: admin only)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    alliance_id: str | None
    template: str
    category: str
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first, and the cursor of the next."""

    items: list[DeliveryView]
    next_cursor: str | None = None


class RetryFailed(BaseModel):
    """Which failed deliveries to send again: every one of an event type."""

    model_config = ConfigDict(extra="forbid")

    event_type: str = Field(min_length=1, max_length=200)


class RetriedCount(BaseModel):
    """How many failed deliveries were made due again."""

    retried: int
