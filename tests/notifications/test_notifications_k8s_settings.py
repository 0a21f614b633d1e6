"""The Kubernetes manifests' settings start notifications: the ConfigMap's values plus
the Secret's keys its comment names build NotificationSettings in production mode."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from lobu.notifications.settings import NotificationSettings

pytestmark = pytest.mark.unit

CONFIGMAP = Path(__file__).parents[2] / "deploy" / "k8s" / "notifications" / "configmap.yaml"
# What the operators put into the Secret lobu-notifications-secrets (examples).
SECRET = {
    "LOBU_NOTIFICATIONS_DATABASE_URL": "postgresql+asyncpg://lobu:pw@postgres.lobu.svc/notifications",
    "LOBU_NOTIFICATIONS_JWT_SECRET": "k8s-test-jwt-secret-of-sufficient-length-0123456789",
    "LOBU_NOTIFICATIONS_UNSUBSCRIBE_SECRET": "k8s-test-unsubscribe-secret-0123456789abcdef",
    "LOBU_NOTIFICATIONS_METRICS_TOKEN": "k8s-test-metrics-token-0123456789",
}


def configmap_data() -> dict[str, str]:
    [document] = [doc for doc in yaml.safe_load_all(CONFIGMAP.read_text()) if doc]
    data: dict[str, str] = document["data"]
    return data


def test_the_configmap_and_secret_build_production_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [name for name in os.environ if name.startswith("LOBU_")]:
        monkeypatch.delenv(name)
    for name, value in (configmap_data() | SECRET).items():
        monkeypatch.setenv(name, value)

    settings = NotificationSettings()

    assert settings.environment == "production"
    assert settings.public_base_url.startswith("https://")
    assert settings.unsubscribe_secret == SECRET["LOBU_NOTIFICATIONS_UNSUBSCRIBE_SECRET"]
    for url in (settings.directory_url, settings.notifications_url, settings.directory_public_url):
        assert url.startswith("https://")


def test_the_configmap_comment_names_every_secret_key() -> None:
    comment = " ".join(line for line in CONFIGMAP.read_text().splitlines() if line.startswith("#"))
    named = set(re.findall(r"LOBU_NOTIFICATIONS_[A-Z_]+", comment))
    assert set(SECRET) <= named
