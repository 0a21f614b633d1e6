"""Fixtures of notifications' tests: settings built in one place, and the handlers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lobu.notifications.main import create_renderer
from lobu.notifications.notifier import Notifier
from lobu.notifications.preferences import UnsubscribeLinks
from lobu.notifications.service import AllianceReactions
from lobu.notifications.settings import NotificationSettings
from tests.support.tokens import TEST_AUTH

SettingsFactory = Callable[..., NotificationSettings]

PUBLIC_BASE_URL = "http://notifications.test"
DIRECTORY_URL = "http://directory.test"
SERVICEBUERO = "servicebuero@lokale-buendnisse-fuer-familie.de"


@pytest.fixture(scope="session")
def notification_settings(tmp_path_factory: pytest.TempPathFactory) -> SettingsFactory:
    """Every NotificationSettings a test builds comes from here (overrides by keyword)."""
    folder = tmp_path_factory.mktemp("notifications")

    def build(**overrides: Any) -> NotificationSettings:
        values: dict[str, Any] = {
            **TEST_AUTH,
            "log_json": False,
            "database_url": f"sqlite+aiosqlite:///{folder}/notifications.db",
            "kafka_bootstrap_servers": "127.0.0.1:1",
            "public_base_url": PUBLIC_BASE_URL,
            "directory_public_url": DIRECTORY_URL,
            "servicebuero_address": SERVICEBUERO,
        } | overrides
        return NotificationSettings(**values)

    return build


def links_for(settings: NotificationSettings) -> UnsubscribeLinks:
    """The signer main.py builds from `settings`."""
    return UnsubscribeLinks(
        secret=settings.unsubscribe_secret, public_base_url=settings.public_base_url
    )


def reactions_for(settings: NotificationSettings) -> AllianceReactions:
    """The alliance handlers as main.py wires them."""
    return AllianceReactions(
        Notifier(create_renderer(settings), links_for(settings)),
        servicebuero_address=settings.servicebuero_address,
        directory_url=settings.directory_public_url,
    )
