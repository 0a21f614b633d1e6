"""Notifications' composition root: `uvicorn lobu.notifications.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter

from lobu.notifications.api import router as deliveries_router
from lobu.notifications.consumers import subscribe_to_alliances
from lobu.notifications.dispatcher import DeliveryDispatcher
from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.messages import MessageRenderer
from lobu.notifications.service import AllianceReactions
from lobu.notifications.settings import NotificationSettings
from lobu.shared import ServiceRuntime, create_service_app


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """Build notifications' app from `settings` (the environment when omitted)."""
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime.create(
        settings, service="notifications", migrations="lobu.notifications:migrations"
    )
    subscribe_to_alliances(runtime, AllianceReactions(MessageRenderer()))
    outcomes = Counter(
        "lobu_notifications_deliveries_total",
        "Delivery attempts by outcome (sent, retried, failed).",
        ["status"],
        registry=runtime.metrics.registry,
    )
    dispatcher = DeliveryDispatcher(
        runtime.sessions,
        SmtpMailer(settings),
        outcomes=outcomes,
        max_attempts=settings.delivery_max_attempts,
        poll_seconds=settings.delivery_poll_seconds,
    )
    return create_service_app(
        runtime,
        title="lobu notifications",
        description="Email delivery for facts from every lobu service.",
        routers=[deliveries_router],
        on_start=[dispatcher.start],
        on_stop=[dispatcher.stop],
    )
