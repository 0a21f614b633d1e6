"""ServiceSettings: safe defaults for development, refused when unsafe for production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from lobu.shared.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

pytestmark = pytest.mark.unit


class DirectoryLikeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LOBU_SHAREDTEST_", extra="ignore")


def test_the_defaults_are_a_development_setup() -> None:
    settings = ServiceSettings()

    assert settings.environment == "development"
    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET
    assert settings.jwt_algorithm == "HS256"
    assert settings.database_url.startswith("sqlite+aiosqlite://")


def test_production_with_the_development_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="jwt_secret"):
        ServiceSettings(environment="production")


def test_production_with_a_secret_of_its_own_is_accepted() -> None:
    settings = ServiceSettings(environment="production", jwt_secret="a-real-secret-from-the-vault")

    assert settings.environment == "production"


@pytest.mark.parametrize("environment", ["development", "test"])
def test_the_development_secret_is_fine_outside_production(environment: str) -> None:
    assert ServiceSettings(environment=environment).jwt_secret == DEVELOPMENT_JWT_SECRET


def test_rs256_without_a_public_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="jwt_public_key"):
        ServiceSettings(jwt_algorithm="RS256")


def test_production_with_rs256_and_a_public_key_is_accepted() -> None:
    settings = ServiceSettings(
        environment="production",
        jwt_algorithm="RS256",
        jwt_public_key="-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----",
    )

    assert settings.jwt_algorithm == "RS256"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("environment", "staging"),
        ("jwt_algorithm", "none"),
        ("consumer_max_attempts", 0),
        ("consumer_retry_backoff_seconds", -1),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        ServiceSettings(**{field: value})


def test_a_service_reads_its_settings_from_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBU_SHAREDTEST_DATABASE_URL", "postgresql+asyncpg://db/lobu")
    monkeypatch.setenv("LOBU_SHAREDTEST_CONSUMER_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("LOBU_SHAREDTEST_CORS_ORIGINS", '["https://lobu.example"]')

    settings = DirectoryLikeSettings()

    assert settings.database_url == "postgresql+asyncpg://db/lobu"
    assert settings.consumer_max_attempts == 7
    assert settings.cors_origins == ["https://lobu.example"]


def test_production_from_the_environment_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBU_SHAREDTEST_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match="jwt_secret"):
        DirectoryLikeSettings()

    monkeypatch.setenv("LOBU_SHAREDTEST_JWT_SECRET", "set-by-the-deployment")
    assert DirectoryLikeSettings().jwt_secret == "set-by-the-deployment"
