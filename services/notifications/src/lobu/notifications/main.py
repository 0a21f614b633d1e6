"""Notifications' composition root: `uvicorn lobu.notifications.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter, Gauge

from lobu.notifications.address_retention import declare_address_retention
from lobu.notifications.api import router as deliveries_router
from lobu.notifications.consumers import subscribe_to_alliances
from lobu.notifications.contact_mails import ContactMessageMails
from lobu.notifications.digest import DigestComposer
from lobu.notifications.dispatcher import DeliveryDispatcher, DeliveryMetrics
from lobu.notifications.erasures import Erasures
from lobu.notifications.mailer import SmtpMailer
from lobu.notifications.messages import MessageRenderer, ServicebueroContact
from lobu.notifications.notifier import Notifier
from lobu.notifications.page_rendering import page_templates
from lobu.notifications.pages import router as pages_router
from lobu.notifications.preferences import UnsubscribeLinks
from lobu.notifications.privacy import NotificationsPersonalData
from lobu.notifications.registration_mails import RegistrationMails
from lobu.notifications.retention import PersonalDataRetention
from lobu.notifications.service import AllianceReactions
from lobu.notifications.settings import NotificationSettings
from lobu.notifications.sign_in_mails import SignInLinkMails
from lobu.notifications.webhook_api import router as webhooks_router
from lobu.notifications.webhook_pages import router as webhook_pages_router
from lobu.notifications.webhook_sender import WebhookMetrics, WebhookPolicy, WebhookSender
from lobu.notifications.webhooks import WebhookSubscriptions
from lobu.shared import ServiceRuntime, create_service_app
from lobu.shared.privacy import AddressHasher, subscribe_to_privacy_requests


def create_metrics(runtime: ServiceRuntime) -> DeliveryMetrics:
    """The delivery metrics, in the service's registry (scraped on /metrics)."""
    registry = runtime.metrics.registry
    return DeliveryMetrics(
        outcomes=Counter(
            "lobu_notifications_deliveries_total",
            "Delivery attempts by channel and outcome (sent, retried, failed, suppressed).",
            ["channel", "status"],
            registry=registry,
        ),
        by_status=Gauge(
            "lobu_notifications_deliveries_by_status",
            "Deliveries in the log by channel and status (suppressed ones among them).",
            ["channel", "status"],
            registry=registry,
        ),
        retry_backlog=Gauge(
            "lobu_notifications_retry_backlog",
            "Deliveries waiting for another attempt after a failure.",
            ["channel"],
            registry=registry,
        ),
        oldest_pending_age=Gauge(
            "lobu_notifications_oldest_pending_age_seconds",
            "Seconds the oldest delivery not yet sent (pending, retrying, sending) has waited.",
            ["channel"],
            registry=registry,
        ),
    )


def create_webhook_metrics(runtime: ServiceRuntime, outcomes: Counter) -> WebhookMetrics:
    """The webhook sender's metrics: the shared delivery counter, and subscriptions by status."""
    return WebhookMetrics(
        outcomes=outcomes,
        subscriptions=Gauge(
            "lobu_notifications_webhook_subscriptions",
            "Webhook subscriptions by status (active, paused, disabled).",
            ["status"],
            registry=runtime.metrics.registry,
        ),
    )


def webhook_policy(settings: NotificationSettings) -> WebhookPolicy:
    """The webhook sender's behaviour, from the settings."""
    return WebhookPolicy(
        concurrency=settings.webhook_concurrency,
        per_receiver=settings.webhook_concurrency_per_receiver,
        timeout_seconds=settings.webhook_timeout_seconds,
        schedule=tuple(settings.webhook_retry_schedule),
        disable_after=settings.webhook_disable_after_failures,
        allowed_networks=tuple(settings.webhook_allowed_networks),
        require_https=settings.environment == "production",
        poll_seconds=settings.delivery_poll_seconds,
    )


def create_renderer(settings: NotificationSettings) -> MessageRenderer:
    """The mail templates, signed with the Servicebüro's contact from the settings."""
    contact = ServicebueroContact(
        email=settings.servicebuero_contact_email or settings.servicebuero_address,
        phone=settings.servicebuero_phone,
    )
    return MessageRenderer(contact)


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """Build notifications' app from `settings` (the environment when omitted)."""
    settings = settings or NotificationSettings()
    runtime = ServiceRuntime.create(
        settings, service="notifications", migrations="lobu.notifications:migrations"
    )
    renderer = create_renderer(settings)
    links = UnsubscribeLinks(
        secret=settings.unsubscribe_secret, public_base_url=settings.public_base_url
    )
    erasures = Erasures(AddressHasher.from_settings(settings))
    notifier = Notifier(renderer, links, erasures)
    subscribe_to_privacy_requests(runtime, NotificationsPersonalData(erasures))
    subscribe_to_alliances(
        runtime,
        AllianceReactions(
            notifier,
            servicebuero_address=settings.servicebuero_address,
            directory_url=settings.directory_public_url,
        ),
        RegistrationMails(notifier),
        contact_messages=ContactMessageMails(
            notifier,
            servicebuero_address=settings.servicebuero_address,
            retention_days=settings.contact_message_retention_days,
        ),
        sign_in_links=SignInLinkMails(notifier, timezone=settings.digest_timezone),
        webhooks=True,
    )
    metrics = create_metrics(runtime)
    policy = webhook_policy(settings)
    sender = WebhookSender(
        runtime.sessions, metrics=create_webhook_metrics(runtime, metrics.outcomes), policy=policy
    )
    dispatcher = DeliveryDispatcher(
        runtime.sessions,
        SmtpMailer(settings),
        metrics=metrics,
        max_attempts=settings.delivery_max_attempts,
        poll_seconds=settings.delivery_poll_seconds,
        concurrency=settings.delivery_concurrency,
        sending_lease_seconds=settings.delivery_sending_lease_seconds,
        digests=DigestComposer(
            runtime.sessions,
            renderer,
            links,
            hour=settings.digest_hour,
            timezone=settings.digest_timezone,
        ),
        retention=PersonalDataRetention(
            runtime.sessions, days=settings.contact_message_retention_days
        ),
    )
    declare_address_retention(runtime.retention, settings.delivery_address_retention)
    app = create_service_app(
        runtime,
        title="lobu notifications",
        description="Email and signed webhook delivery for facts from every lobu service.",
        routers=[deliveries_router, webhooks_router, pages_router, webhook_pages_router],
        on_start=[dispatcher.start, sender.start],
        on_stop=[dispatcher.stop, sender.stop],
    )
    app.state.unsubscribe_links = links
    app.state.page_templates = page_templates(settings)
    app.state.webhooks = WebhookSubscriptions(
        runtime.sessions,
        allowed_networks=policy.allowed_networks,
        require_https=policy.require_https,
        secret_overlap_seconds=settings.webhook_secret_overlap_seconds,
    )
    return app
