"""Settings every lobu service shares, read from the environment with one prefix per service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Accepted only while `environment` is "development"; a deployment must set its own.
DEVELOPMENT_JWT_SECRET = "lobu-development-secret-do-not-use-in-production"  # noqa: S105


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it with its own `env_prefix`.

    Example: the directory reads `LOBU_DIRECTORY_DATABASE_URL`.
    """

    model_config = SettingsConfigDict(env_prefix="LOBU_", extra="ignore")

    service_name: str = "lobu"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///var/lobu.db"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_public_key: str | None = Field(
        default=None, description="PEM public key for RS256 tokens (production)"
    )
    jwt_audience: str = "lobu"
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = 0.5
    outbox_max_attempts: int = Field(default=10, ge=1)  # refusals before a row is parked
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_seconds: float = Field(default=0.2, ge=0)

    @model_validator(mode="after")
    def refuse_development_secret_outside_development(self) -> ServiceSettings:
        """A production deployment with the well-known development secret is refused."""
        if (
            self.environment == "production"
            and self.jwt_algorithm == "HS256"
            and self.jwt_secret == DEVELOPMENT_JWT_SECRET
        ):
            raise ValueError(
                "jwt_secret is the development default; set a secret of your own "
                "(for example LOBU_DIRECTORY_JWT_SECRET) before running in production"
            )
        if self.jwt_algorithm == "RS256" and not self.jwt_public_key:
            raise ValueError("jwt_algorithm RS256 needs jwt_public_key (PEM)")
        return self
