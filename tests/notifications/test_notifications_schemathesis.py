"""Notifications' HTTP API fuzzed by schemathesis against its own OpenAPI document.

The service runs as its own uvicorn process on a fresh SQLite file, with Kafka away
(it serves HTTP all the same). Deliveries are seeded into its database, some failed,
so that the retry operations reach their handlers with ids that exist. No request may
get a server error, and every response must match the schema documented for it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lobu.notifications.main import create_app
from lobu.notifications.models import Delivery
from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory
from tests.notifications.conftest import SettingsFactory
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_JWT_SECRET
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
ADMIN = {"Authorization": f"Bearer {create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN)}"}
CHECKS = [not_a_server_error, response_schema_conformance]
SEEDED = 6
PUBLIC_OPERATIONS = {"GET /healthz", "GET /readyz", "GET /asyncapi.json"}
REFUSALS = {400, 401, 403, 404, 405, 422}


def _openapi_document() -> dict[str, Any]:
    """The document the service serves (built without connecting; logging undone)."""
    from lobu.notifications.settings import NotificationSettings

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        app = create_app(
            NotificationSettings(
                database_url="sqlite+aiosqlite://",
                kafka_bootstrap_servers="127.0.0.1:9",
                environment="test",
                jwt_secret=TEST_JWT_SECRET,
                log_json=False,
            )
        )
        return app.openapi()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


DOCUMENT = _openapi_document()
schema = schemathesis.openapi.from_dict(
    copy.deepcopy(DOCUMENT),
    config=schemathesis.Config.from_dict(
        {"generation": {"max-examples": MAX_EXAMPLES, "database": "none"}}
    ),
)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> SearchStrategy[dict[str, Any] | None]:
    """Generated `{delivery_id}`s and ids of deliveries that exist."""
    if context.operation is None or "{delivery_id}" not in context.operation.path:
        return st.just(path_parameters)
    existing = st.integers(1, SEEDED).map(
        lambda number: {**(path_parameters or {}), "delivery_id": number}
    )
    return st.one_of(existing, st.just(path_parameters))


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            for number in range(1, SEEDED + 1):
                session.add(
                    Delivery(
                        event_id=f"event-{number}",
                        event_type=ALLIANCE_CREATED,
                        alliance_id="alliance-1",
                        recipient=f"kontakt-{number}@example.org",
                        subject="Willkommen im Netzwerk der Lokalen Bündnisse für Familie",
                        body="Guten Tag,\n",
                        html_body="<p>Guten Tag,</p>",
                        status="failed" if number % 2 else "sent",
                        attempts=8,
                        last_error="SMTPConnectError",
                    )
                )
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def notifications(
    tmp_path_factory: pytest.TempPathFactory,
    notification_settings: SettingsFactory,
    kafka: KafkaServer,
) -> Iterator[str]:
    """The service as its own process, its database seeded; yields its URL.

    On a real broker: the process counts as started once /readyz says database and Kafka.
    """
    folder: Path = tmp_path_factory.mktemp("notifications-schemathesis")
    database_url = f"sqlite+aiosqlite:///{folder}/notifications.db"
    settings = notification_settings(
        database_url=database_url,
        smtp_port=free_port(),
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    service = ServiceProcess(
        app="lobu.notifications.main:create_app",
        port=free_port(),
        env={
            f"LOBU_NOTIFICATIONS_{name.upper()}": str(value)
            for name, value in settings.model_dump(
                include={
                    "database_url",
                    "kafka_bootstrap_servers",
                    "environment",
                    "jwt_secret",
                    "smtp_port",
                    "public_base_url",
                }
            ).items()
        }
        | {
            "LOBU_NOTIFICATIONS_LOG_JSON": "false",
            "LOBU_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "3600",
        },
        log_file=folder / "notifications.log",
    )
    service.start()
    try:
        asyncio.run(
            eventually(
                lambda: requests.get(f"{service.url}/healthz", timeout=5).status_code == 200,
                timeout=60,
                what="notifications to answer",
            )
        )
        asyncio.run(_seed(database_url))
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def http(notifications: str) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


# Without Kafka /readyz answers 503 by design (test_notifications_api checks that).
FUZZED = schema.exclude(path="/readyz").exclude(path_regex="^/webhooks")  # own module
FUZZING = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def test_the_fuzzed_document_is_the_one_the_service_serves(
    notifications: str, http: requests.Session
) -> None:
    response = http.get(f"{notifications}/openapi.json")

    assert response.status_code == 200
    assert response.json() == DOCUMENT
    assert "/deliveries/{delivery_id}/retry" in DOCUMENT["paths"]
    assert "/deliveries/retry-failed" in DOCUMENT["paths"]


@FUZZED.parametrize()
@FUZZING
def test_an_admin_never_gets_a_server_error(
    case: schemathesis.Case[Any], notifications: str, http: requests.Session
) -> None:
    response = case.call(base_url=notifications, session=http, headers=ADMIN, timeout=30)

    case.validate_response(response, checks=CHECKS)


@FUZZED.parametrize()
@FUZZING
def test_without_a_token_only_health_answers(
    case: schemathesis.Case[Any], notifications: str, http: requests.Session
) -> None:
    if case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(base_url=notifications, session=http, timeout=30)

    case.validate_response(response, checks=CHECKS)
    if case.operation.label not in PUBLIC_OPERATIONS:
        assert response.status_code in REFUSALS, (
            f"{case.operation.label} without a token answered {response.status_code}"
        )
