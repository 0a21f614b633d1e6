"""Settings of notifications, read from `LOBU_NOTIFICATIONS_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lobu.shared import ServiceSettings


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
    delivery_max_attempts: int = Field(default=8, ge=1)
    delivery_poll_seconds: float = 0.5
