"""Settings of the events service, read from `LOBU_EVENTS_*` environment variables."""

from __future__ import annotations

import secrets
from datetime import timedelta

from pydantic import Field, PrivateAttr
from pydantic_settings import SettingsConfigDict

from lobu.shared import ServiceSettings


class EventsSettings(ServiceSettings):
    """The events service's settings; see ServiceSettings for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="LOBU_EVENTS_", extra="ignore")

    service_name: str = "events"
    database_url: str = "sqlite+aiosqlite:///var/events.db"
    # Where participants reach this service: the start of every absolute cancel link.
    public_url: str = "http://127.0.0.1:8003"
    # The most seats one registration may ask for.
    max_seats_per_registration: int = Field(default=10, ge=1, le=1000)
    # Load a demo edition (next 15 May) with actions of the demo alliances once the
    # replica of the directory knows them (make run sets it).
    demo_data: bool = False
    demo_wait_seconds: float = Field(default=300.0, ge=0)
    # The key of the registration form's CSRF token (registration_form.py); the JWT
    # secret when unset. Several processes behind one address must share it.
    form_secret: str | None = None
    _random_form_secret: str = PrivateAttr(default_factory=lambda: secrets.token_hex(32))

    def form_key(self) -> str:
        """The key the registration form's token is signed with."""
        return self.form_secret or self.jwt_secret or self._random_form_secret

    # Day-before reminders: from this hour (Berlin) on the day before an action, checked
    # every reminder_interval_seconds (0 switches the loop off; tests call it directly).
    reminder_hour: int = Field(default=8, ge=0, le=23)
    reminder_interval_seconds: float = Field(default=300.0, ge=0)
    # Participants' data (registrations) is deleted this long after the action ended.
    participant_retention: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
