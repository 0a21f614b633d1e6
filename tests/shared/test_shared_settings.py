"""ServiceSettings: safe by default; the development secret only where development is said."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from lobu.shared.settings import DEVELOPMENT_JWT_SECRET, ServiceSettings

pytestmark = pytest.mark.unit


class DirectoryLikeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LOBU_SHAREDTEST_", extra="ignore")


OWN_SECRET = "a-real-secret-from-the-vault-0123456789"


def test_the_defaults_are_production_and_need_a_secret() -> None:
    # Defect 6: with nothing set, the service ran as development with a published secret.
    with pytest.raises(ValidationError, match="jwt_secret is not set"):
        ServiceSettings()

    settings = ServiceSettings(jwt_secret=OWN_SECRET)
    assert settings.environment == "production"
    assert settings.jwt_algorithm == "HS256"
    assert settings.jwt_issuer == "lobu"
    assert settings.database_url.startswith("sqlite+aiosqlite://")


@pytest.mark.parametrize("environment", ["production", "test"])
def test_the_development_secret_is_refused_outside_development(environment: str) -> None:
    with pytest.raises(ValidationError, match="published development secret"):
        ServiceSettings(environment=environment, jwt_secret=DEVELOPMENT_JWT_SECRET)


def test_the_development_secret_is_accepted_where_development_is_said_explicitly() -> None:
    settings = ServiceSettings(environment="development", jwt_secret=DEVELOPMENT_JWT_SECRET)

    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET


def test_development_without_a_secret_still_needs_one() -> None:
    with pytest.raises(ValidationError, match=r"run\.env"):
        ServiceSettings(environment="development")


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_an_hs256_secret_shorter_than_32_bytes_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="31 bytes long; HS256 needs at least 32"):
        ServiceSettings(environment=environment, jwt_secret="x" * 31)
    # Bytes, not characters: 16 umlauts are 32 bytes in UTF-8.
    assert ServiceSettings(environment=environment, jwt_secret="ü" * 16).jwt_secret


def test_production_with_a_secret_of_its_own_is_accepted() -> None:
    settings = ServiceSettings(environment="production", jwt_secret=OWN_SECRET)

    assert settings.environment == "production"


def test_the_refusal_names_the_services_own_variable() -> None:
    with pytest.raises(ValidationError, match="LOBU_SHAREDTEST_JWT_SECRET"):
        DirectoryLikeSettings()


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
        ServiceSettings(**{field: value, "jwt_secret": OWN_SECRET})


def test_a_service_reads_its_settings_from_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOBU_SHAREDTEST_DATABASE_URL", "postgresql+asyncpg://db/lobu")
    monkeypatch.setenv("LOBU_SHAREDTEST_CONSUMER_MAX_ATTEMPTS", "7")
    monkeypatch.setenv("LOBU_SHAREDTEST_CORS_ORIGINS", '["https://lobu.example"]')
    monkeypatch.setenv("LOBU_SHAREDTEST_JWT_SECRET", OWN_SECRET)

    settings = DirectoryLikeSettings()

    assert settings.database_url == "postgresql+asyncpg://db/lobu"
    assert settings.consumer_max_attempts == 7
    assert settings.cors_origins == ["https://lobu.example"]


def test_production_from_the_environment_needs_a_secret_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOBU_SHAREDTEST_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match="jwt_secret"):
        DirectoryLikeSettings()

    monkeypatch.setenv("LOBU_SHAREDTEST_JWT_SECRET", OWN_SECRET)
    assert DirectoryLikeSettings().jwt_secret == OWN_SECRET
