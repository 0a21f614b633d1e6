"""`lobu token` beside `make run`: the token on stdout alone, accepted by make run's services."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lobu.directory.settings import DirectorySettings
from lobu.notifications.settings import NotificationSettings
from lobu.shared.auth import Role, TokenVerifier
from lobu.shared.settings import ServiceSettings

pytestmark = pytest.mark.unit

RUN_ENV = Path(__file__).parents[2] / "deploy" / "local" / "run.env"


def lobu_token(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`lobu token ...` as the README runs it, in a clean environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LOBU_")}
    return subprocess.run(
        [sys.executable, "-m", "lobu.shared.cli", "token", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=True,
    )


def run_env_settings(
    kind: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """A service's settings exactly as make run gives them (honcho's -e deploy/local/run.env)."""
    for name in list(os.environ):
        if name.startswith("LOBU_"):
            monkeypatch.delenv(name)
    return kind(_env_file=RUN_ENV)  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", [DirectorySettings, NotificationSettings])
def test_the_token_printed_alone_on_stdout_is_accepted_by_make_runs_services(
    kind: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = lobu_token("--role", "admin")
    settings = run_env_settings(kind, monkeypatch)

    token = result.stdout
    assert token.endswith("\n")  # TOKEN=$(lobu token ...) works: one line, nothing else
    assert token.count("\n") == 1
    assert token.strip().count(".") == 2
    assert settings.environment == "development"
    assert TokenVerifier(settings).verify(token.strip()).role is Role.ADMIN
    assert "development secret" in result.stderr


def test_a_coordinator_token_names_its_alliance(monkeypatch: pytest.MonkeyPatch) -> None:
    result = lobu_token("--role", "alliance", "--alliance-id", "a-42")
    settings = run_env_settings(DirectorySettings, monkeypatch)

    caller = TokenVerifier(settings).verify(result.stdout.strip())

    assert caller.alliance_id == "a-42"


def test_lobu_jwt_secret_signs_for_another_deployment() -> None:
    own = "the-staging-secret-from-the-vault-0123456789"
    result = lobu_token("--role", "admin", env={"LOBU_JWT_SECRET": own})
    staging = ServiceSettings(environment="production", jwt_secret=own)

    assert TokenVerifier(staging).verify(result.stdout.strip()).is_admin
    assert result.stderr == ""
