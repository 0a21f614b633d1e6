"""Settings of notifications, read from `LOBU_NOTIFICATIONS_*` environment variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, IPvAnyNetwork, model_validator
from pydantic_settings import SettingsConfigDict

from lobu.shared import ServiceSettings

# Signs preference links; accepted only outside production, like the JWT development secret.
DEVELOPMENT_UNSUBSCRIBE_SECRET = "lobu-development-unsubscribe-secret-not-for-production"  # noqa: S105


class NotificationSettings(ServiceSettings):
    """Notifications' settings; see ServiceSettings for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="LOBU_NOTIFICATIONS_", extra="ignore")

    service_name: str = "notifications"
    database_url: str = "sqlite+aiosqlite:///var/notifications.db"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = 10.0
    mail_from: str = (
        "Servicebüro Lokale Bündnisse für Familie <servicebuero@lokale-buendnisse-fuer-familie.de>"
    )
    # Attempts of one mail before it is failed: waits of 1, 2, 4, ... s, at most 15 min
    # (dispatcher.backoff_seconds), so the default keeps trying for about 24 hours of
    # SMTP outage (dispatcher.retry_span_seconds), as webhooks do for 40.
    delivery_max_attempts: int = Field(default=106, ge=1)
    delivery_poll_seconds: float = 0.5
    # How many mails are sent at once; a slow SMTP server holds at most this many.
    delivery_concurrency: int = Field(default=4, ge=1, le=64)
    # A delivery claimed for sending whose outcome was never recorded (the process
    # died) is sent again after this long, with the same Message-ID.
    delivery_sending_lease_seconds: float = Field(default=300.0, gt=0)
    # Where links in mails point: this service's public address (HTTPS in production).
    public_base_url: str = "http://127.0.0.1:8004"
    # The directory's public pages, for links to an alliance's entry.
    directory_public_url: str = "http://127.0.0.1:8001"
    # The Servicebüro's mailbox: a recipient of the routing table.
    servicebuero_address: str = "servicebuero@lokale-buendnisse-fuer-familie.de"
    # How every mail's signature says the Servicebüro can be reached: its public
    # address (the mailbox above when unset) and, when set, its phone number.
    servicebuero_contact_email: str | None = None
    servicebuero_phone: str | None = None
    # A citizen's message to an alliance (contact_mails.py, retention.py): its text and
    # the sender's address are deleted once the mail is sent, and after this many days
    # at the latest if it could not be sent (a failed one may be retried until then).
    contact_message_retention_days: int = Field(default=7, ge=1, le=90)
    # How long the delivery log keeps whom a finished mail went to (address_retention.py).
    delivery_address_retention: timedelta = Field(default=timedelta(days=180))
    unsubscribe_secret: str = Field(default=DEVELOPMENT_UNSUBSCRIBE_SECRET, min_length=32)
    # Daily digests go out at this hour (local time of `digest_timezone`).
    digest_hour: int = Field(default=7, ge=0, le=23)
    digest_timezone: str = "Europe/Berlin"
    # Webhooks (webhooks.py, webhook_sender.py): requests in flight at once, overall
    # and per receiver, so a slow receiver never holds up the others.
    webhook_concurrency: int = Field(default=32, ge=1, le=256)
    webhook_concurrency_per_receiver: int = Field(default=4, ge=1, le=64)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Waits before the 2nd, 3rd, ... attempt (seconds, each with +-20 % jitter): the last
    # attempt comes about 40 h after the first; after it the delivery is failed.
    webhook_retry_schedule: list[int] = Field(
        default=[5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800, 43200, 43200], min_length=1
    )
    # This many failed attempts in a row (no success between) disable a subscription.
    webhook_disable_after_failures: int = Field(default=50, ge=1)
    # After a rotation the previous secret keeps signing alongside the new one this long.
    webhook_secret_overlap_seconds: float = Field(default=86400.0, ge=0)
    # Receivers in these networks are allowed although private, loopback or link-local
    # (SSRF guard); `make run` allows loopback so that local receivers work.
    webhook_allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)

    @model_validator(mode="after")
    def refuse_development_unsubscribe_secret_in_production(self) -> NotificationSettings:
        """Links signed with a published secret could unsubscribe anyone."""
        if self.environment == "production" and (
            self.unsubscribe_secret == DEVELOPMENT_UNSUBSCRIBE_SECRET
        ):
            raise ValueError(
                "unsubscribe_secret is the development default; set "
                "LOBU_NOTIFICATIONS_UNSUBSCRIBE_SECRET before running in production"
            )
        if self.environment == "production" and not self.public_base_url.startswith("https://"):
            raise ValueError("public_base_url must be https:// in production")
        return self
