"""Settings of the surveys service, read from `LOBU_SURVEYS_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lobu.shared import ServiceSettings


class SurveySettings(ServiceSettings):
    """The surveys service's settings; see ServiceSettings for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="LOBU_SURVEYS_", extra="ignore")

    service_name: str = "surveys"
    database_url: str = "sqlite+aiosqlite:///var/surveys.db"
    # Where the answer page is reached; the personal link is `<base>/umfrage/<token>`.
    public_base_url: str = "http://127.0.0.1:8002"
    # Slices of the results with fewer respondents are shown as suppressed, never as numbers.
    suppression_threshold: int = Field(default=5, ge=1)
    # Reminders to alliances that have not submitted, in days before closing (per survey
    # when a survey names none of its own).
    reminder_days: list[int] = Field(default_factory=lambda: [14, 3])
    # How often the scheduler opens and closes surveys by the clock and sends reminders.
    scheduler_seconds: float = Field(default=30.0, gt=0)
    # Load the 2023 and 2024 demo surveys once the demo alliances are replicated.
    demo_data: bool = False
