"""The webhook endpoints fuzzed by schemathesis against the service's OpenAPI document.

Lean on purpose: the app runs in this process (uvicorn in a thread, SQLite, Kafka
away), only the `/webhooks` operations are generated, with few examples; path ids are
drawn from a subscription that exists and from generated ones. Who may call them is
checked in test_webhooks_api.py (401/403 come from the shared GuardedRoute). No request may get a
server error, and every response must match the schema documented for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lobu.notifications.main import create_app
from lobu.shared.auth import Role
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from tests.notifications.conftest import SettingsFactory
from tests.support.ports import free_port
from tests.support.tokens import bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.unit

MAX_EXAMPLES = 8
ADMIN = bearer(Role.ADMIN)
CHECKS = [not_a_server_error, response_schema_conformance]
EXISTING: list[str] = []  # the id of the subscription the fixture creates


def _document(settings_factory: SettingsFactory | None = None) -> dict[str, Any]:
    from lobu.notifications.settings import NotificationSettings
    from tests.support.tokens import TEST_AUTH

    app = create_app(
        NotificationSettings(
            **TEST_AUTH, database_url="sqlite+aiosqlite://", kafka_bootstrap_servers="127.0.0.1:9"
        )
    )
    return app.openapi()


schema = schemathesis.openapi.from_dict(
    _document(),
    config=schemathesis.Config.from_dict(
        {"generation": {"max-examples": MAX_EXAMPLES, "database": "none"}}
    ),
).include(path_regex="^/webhooks")


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> SearchStrategy[dict[str, Any] | None]:
    """Generated `{webhook_id}`s and the one that exists."""
    if context.operation is None or "{webhook_id}" not in context.operation.path:
        return st.just(path_parameters)
    existing = st.sampled_from(EXISTING or ["0"]).map(
        lambda known: {**(path_parameters or {}), "webhook_id": known}
    )
    return st.one_of(existing, st.just(path_parameters))


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, notification_settings: SettingsFactory
) -> Iterator[str]:
    """The app served by uvicorn in a thread of its own; yields its URL."""
    folder: Path = tmp_path_factory.mktemp("webhooks-schemathesis")
    app = create_app(
        notification_settings(
            database_url=f"sqlite+aiosqlite:///{folder}/notifications.db",
            smtp_port=free_port(),
            delivery_poll_seconds=3600,
        )
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(
            eventually(
                lambda: server.started and requests.get(f"{url}/healthz", timeout=5).ok,
                timeout=60,
                what="the app to answer",
            )
        )
        created = requests.post(
            f"{url}/webhooks",
            json={"url": "http://93.184.215.14/hooks", "event_types": [ALLIANCE_CREATED]},
            headers=ADMIN,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        EXISTING[:] = [created.json()["id"]]
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def http(service: str) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


FUZZING = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@schema.parametrize()
@FUZZING
def test_an_admin_never_gets_a_server_error_from_webhooks(
    case: schemathesis.Case[Any], service: str, http: requests.Session
) -> None:
    response = case.call(base_url=service, session=http, headers=ADMIN, timeout=30)

    case.validate_response(response, checks=CHECKS)
