"""Prometheus in docker-compose may read /metrics: it sends the token the services expect."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lobu.directory.settings import DirectorySettings
from lobu.notifications.settings import NotificationSettings
from lobu.shared.metrics import may_scrape
from lobu.shared.settings import ServiceSettings

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
APPS: dict[str, type[ServiceSettings]] = {
    "directory": DirectorySettings,
    "notifications": NotificationSettings,
}
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def load(path: Path) -> Any:
    with path.open(encoding="utf-8") as file:
        return yaml.safe_load(file)


def compose_environment(service: str) -> dict[str, str]:
    raw = load(ROOT / "docker-compose.yml")["services"][service]["environment"]
    return {k: _VARIABLE.sub(lambda m: m.group("default") or "", str(v)) for k, v in raw.items()}


@pytest.mark.parametrize("service", sorted(APPS))
def test_prometheus_sends_the_metrics_token_the_service_is_given(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = APPS[service]
    jobs = {
        job["job_name"]: job
        for job in load(ROOT / "deploy/prometheus/prometheus.yml")["scrape_configs"]
    }
    authorization = jobs[service]["authorization"]
    for name in [name for name in os.environ if name.startswith("LOBU_")]:
        monkeypatch.delenv(name)
    for name, value in compose_environment(service).items():
        monkeypatch.setenv(name, value)
    settings = kind()

    assert authorization.get("type", "Bearer") == "Bearer"
    assert settings.metrics_token is not None
    # The scraper is another container: not loopback, so only the token lets it in.
    assert may_scrape(
        client_host="172.18.0.5",
        authorization=f"Bearer {authorization['credentials']}",
        networks=settings.metrics_allowed_networks,
        token=settings.metrics_token,
    )
    assert not may_scrape(
        client_host="172.18.0.5",
        authorization=None,
        networks=settings.metrics_allowed_networks,
        token=settings.metrics_token,
    )
