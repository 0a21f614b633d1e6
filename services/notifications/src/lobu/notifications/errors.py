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
