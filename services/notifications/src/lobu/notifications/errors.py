"""Notifications' domain errors, each with a stable code and HTTP status."""

from __future__ import annotations

from lobu.shared import LobuError


class NotificationsError(LobuError):
    """Root of notifications' errors."""


class DeliveryNotFoundError(NotificationsError):
    """No delivery has this id."""

    code = "delivery_not_found"
    status = 404
    title = "Not found"


class DeliveryNotRetryableError(NotificationsError):
    """Only a failed delivery can be retried by hand."""

    code = "delivery_not_retryable"
    status = 409
    title = "Conflict"


class WebhookNotFoundError(NotificationsError):
    """No webhook subscription has this id."""

    code = "webhook_not_found"
    status = 404
    title = "Not found"


class WebhookUrlRefusedError(NotificationsError):
    """The URL is not one lobu sends to (not http(s), or a non-public address: SSRF)."""

    code = "webhook_url_refused"
    status = 422
    title = "Unprocessable Content"


class UnknownWebhookEventTypeError(NotificationsError):
    """Webhooks carry the public event types only."""

    code = "webhook_event_type_unknown"
    status = 422
    title = "Unprocessable Content"
