"""Settings every lobu service shares, read from the environment with one prefix per service.

Unsafe is never the default: a service that is given nothing runs as `production`
and refuses to start without a JWT secret of its own. The published development
secret is accepted only where a deployment says `environment=development` and names
that secret explicitly, as `make run` does in deploy/local/run.env.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Published in this repository: accepted only with environment=development, never by default.
DEVELOPMENT_JWT_SECRET = "lobu-development-secret-do-not-use-in-production"  # noqa: S105
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
MINIMUM_HS256_SECRET_BYTES = 32
# Who may read /metrics without the scrape token: the machine itself.
LOOPBACK_NETWORKS: list[IPv4Network | IPv6Network] = [
    IPv4Network("127.0.0.0/8"),
    IPv6Network("::1/128"),
]


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it with its own `env_prefix`.

    Example: the directory reads `LOBU_DIRECTORY_DATABASE_URL`.
    """

    model_config = SettingsConfigDict(env_prefix="LOBU_", extra="ignore")

    service_name: str = "lobu"
    environment: Literal["development", "test", "production"] = "production"
    database_url: str = "sqlite+aiosqlite:///var/lobu.db"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    jwt_secret: str | None = Field(
        default=None, description="HS256 key, at least 32 bytes; no default on purpose"
    )
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwt_public_key: str | None = Field(
        default=None, description="PEM public key for RS256 tokens (production)"
    )
    jwt_audience: str = "lobu"
    jwt_issuer: str = "lobu"
    cors_origins: list[str] = Field(default_factory=list)
    metrics_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=lambda: list(LOOPBACK_NETWORKS),
        description="Clients that may read /metrics without a token (loopback by default)",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="A bearer token that lets a scraper read /metrics from anywhere"
    )
    log_level: str = "INFO"
    log_json: bool = True
    outbox_poll_seconds: float = 0.5
    outbox_max_attempts: int = Field(default=10, ge=1)  # refusals before a row is parked
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_retry_backoff_seconds: float = Field(default=0.2, ge=0)
    # Consumers per topic in each process: each takes some of the topic's partitions
    # and handles them side by side (order is kept per partition, i.e. per key).
    consumer_workers_per_topic: int = Field(default=1, ge=1, le=32)
    # Retention (lobu.shared.retention); periods as seconds or ISO 8601 ("P30D").
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    outbox_retention: timedelta = Field(
        default=timedelta(days=7), description="How long published outbox rows are kept"
    )
    inbox_retention: timedelta = Field(
        default=timedelta(days=30),
        description="How long handled event ids are kept; longer than the topics' retention "
        "(7 days), so a record read again from a topic is still known as a duplicate",
    )
    idempotency_key_retention: timedelta = Field(
        default=timedelta(days=1), description="How long an Idempotency-Key is remembered"
    )
    tracing_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces URL (http://collector:4318/v1/traces); spans are "
        "exported only when this or OTEL_EXPORTER_OTLP_ENDPOINT is set",
    )
    consumer_lag_seconds: float = Field(default=10.0, gt=0)  # lobu_consumer_lag_records refresh
    # Where each service's pages are, for the sign-in redirect and the pages' navigation;
    # the session cookie is set by the directory and sent to every service on that host.
    directory_url: str = "http://127.0.0.1:8001"
    surveys_url: str = "http://127.0.0.1:8002"
    events_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    session_cookie_secure: bool | None = Field(
        default=None, description="Secure flag of the session cookie; unset, on in production"
    )
    privacy_hash_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key of the keyed hashes that stand for an address in the privacy "
        "audit and the erasure list (lobu.shared.privacy); unset, one derived from jwt_secret",
    )

    @model_validator(mode="after")
    def refuse_unsafe_token_settings(self) -> ServiceSettings:
        """No secret, a short one, or the published one outside development: refused."""
        prefix = (self.model_config.get("env_prefix") or "LOBU_").upper()
        if self.jwt_algorithm == "RS256":
            if not self.jwt_public_key:
                raise ValueError("jwt_algorithm RS256 needs jwt_public_key (PEM)")
            return self
        if not self.jwt_secret:
            raise ValueError(
                f"jwt_secret is not set: set {prefix}JWT_SECRET to a secret of at least "
                f"{MINIMUM_HS256_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`). For local "
                "development, deploy/local/run.env sets the development secret together with "
                f"{prefix}ENVIRONMENT=development."
            )
        if len(self.jwt_secret.encode()) < MINIMUM_HS256_SECRET_BYTES:
            raise ValueError(
                f"jwt_secret is {len(self.jwt_secret.encode())} bytes long; HS256 needs at least "
                f"{MINIMUM_HS256_SECRET_BYTES} (RFC 7518, section 3.2): set {prefix}JWT_SECRET "
                "to a longer one (e.g. `openssl rand -hex 32`)"
            )
        if self.jwt_secret == DEVELOPMENT_JWT_SECRET and self.environment != "development":
            raise ValueError(
                f"jwt_secret is the published development secret, which anyone can sign "
                f"tokens with; it is accepted only with {prefix}ENVIRONMENT=development "
                f"(this is {self.environment!r}). Set {prefix}JWT_SECRET to a secret of your own."
            )
        return self

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies carry Secure: as configured, else everywhere but development/test."""
        if self.session_cookie_secure is not None:
            return self.session_cookie_secure
        return self.environment == "production"
