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


class WebhookCreate(BaseModel):
    """A new webhook subscription: where to, and which public event types."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, examples=["https://portal.example.org/hooks"])
    event_types: list[str] = Field(
        min_length=1, max_length=50, examples=[["lobu.directory.alliance.created.v1"]]
    )


class WebhookView(BaseModel):
    """A subscription as admins see it (never its secrets)."""

    id: str
    url: str
    event_types: list[str]
    status: str = Field(description="active, paused or disabled")
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    previous_secret_until: datetime | None = Field(
        description="After a rotation: until when the former secret signs as well"
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookView):
    """The new subscription, with its signing secret (shown this once)."""

    secret: str


class WebhookList(BaseModel):
    """Every subscription, oldest first."""

    items: list[WebhookView]


class WebhookSecret(BaseModel):
    """A rotated secret; the former one signs as well until `previous_secret_until`."""

    id: str
    secret: str
    previous_secret_until: datetime | None
