"""Settings of the events service, read from `LOBU_EVENTS_*` environment variables."""

from __future__ import annotations

from pydantic import Field
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
