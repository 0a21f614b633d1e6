"""Notifications' HTTP models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class DeliveryView(BaseModel):
    """One delivery as admins see it (the recipient is personal data: admin only)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: str
    event_type: str
    alliance_id: str | None
    channel: str
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class DeliveryPage(BaseModel):
    """A page of deliveries, newest first, and the cursor of the next."""

    items: list[DeliveryView]
    next_cursor: str | None = None
