"""Settings of the directory, read from `LOBU_DIRECTORY_*` environment variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lobu.shared import ServiceSettings


class DirectorySettings(ServiceSettings):
    """The directory's settings; see ServiceSettings for the shared ones."""

    model_config = SettingsConfigDict(env_prefix="LOBU_DIRECTORY_", extra="ignore")

    service_name: str = "directory"
    database_url: str = "sqlite+aiosqlite:///var/directory.db"
    # Load the shipped demo alliances when the database has none (make run sets it).
    demo_data: bool = False
    # The public pages' footer links (a German public site needs both); unset, no link.
    imprint_url: str | None = None
    privacy_url: str | None = None
    # The contact form (contact.py): accepted messages per window from one client
    # address and to one alliance; more get the page again with status 429.
    contact_limit_per_client: int = Field(default=5, ge=1)
    contact_limit_per_alliance: int = Field(default=30, ge=1)
    contact_window_seconds: int = Field(default=3600, ge=60)
    # The services that hold personal data: a privacy request is done once each answered.
    privacy_services: list[str] = Field(
        default_factory=lambda: ["directory", "events", "notifications", "surveys"]
    )
    # How long the answers of an access request keep what they found (the export): long
    # enough to hand it over, then it is anonymised (the audit of the request stays).
    privacy_export_retention: timedelta = Field(default=timedelta(days=30))
    # Sign-in by one-time link (sign_in.py): Servicebüro staff by this list (admins), alliance
    # coordinators by being a contact of an alliance. Links go through notifications.
    staff_emails: list[str] = Field(default_factory=list)
    sign_in_link_minutes: int = Field(default=15, ge=1, le=60)
    session_minutes: int = Field(default=120, ge=5, le=720)
    # Link requests per window for one address and from one client address; more: 429.
    sign_in_limit_per_address: int = Field(default=5, ge=1)
    sign_in_limit_per_client: int = Field(default=20, ge=1)
    sign_in_window_seconds: int = Field(default=3600, ge=60)
    sign_in_audit_retention: timedelta = Field(default=timedelta(days=365))
    # RS256 deployments: the private key that signs session tokens (PEM); HS256 uses jwt_secret.
    jwt_private_key: SecretStr | None = None
