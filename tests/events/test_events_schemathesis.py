"""The events service's HTTP API fuzzed by schemathesis against its own OpenAPI document.

The service runs as `make run` runs it (uvicorn in its own process, migrations on
start-up, SQLite, a real Kafka broker, from which its replica learns two alliances).
Per operation, schemathesis sends the document's examples, its boundary cases and up
to MAX_EXAMPLES generated requests, valid and invalid ones. No request may get a
server error, and a response must match the schema the document gives for it.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
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

from lobu.events.consumers import CONSUMER_GROUP
from lobu.events.main import create_app
from lobu.events.settings import EventsSettings
from lobu.shared.auth import Role, create_token
from lobu.shared.envelope import to_kafka_record
from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.events.conftest import ALLIANCE, JWT_SECRET, NO_BROKER, action_body, alliance_event
from tests.support.kafka_probe import publish_raw, skip_backlog
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 20
ADMIN = {"Authorization": f"Bearer {create_token(secret=JWT_SECRET, role=Role.ADMIN)}"}
CHECKS = [not_a_server_error, response_schema_conformance]
PUBLIC_OPERATIONS = {
    "GET /healthz", "GET /readyz", "GET /asyncapi.json", "GET /editions", "GET /editions/{year}",
    "GET /editions/{year}/actions", "GET /editions/{year}/actions.geojson",
    "GET /editions/{year}/programme.ics",
    "GET /editions/{year}/alliances/{alliance_id}/programme.ics",
    "GET /actions/{action_id}", "POST /actions/{action_id}/registrations",
    "GET /registrations/{registration_id}/{token}",
    "DELETE /registrations/{registration_id}/{token}",
}  # fmt: skip
REFUSALS = {400, 401, 403, 404, 405, 409, 422}

# Filled by the `seeded` fixture: ids that exist, for generated path parameters.
ACTION_IDS: list[str] = []
LINKS: list[tuple[str, str]] = []


def _openapi_document() -> dict[str, Any]:
    """The document the service serves; building the app neither connects nor migrates."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        app = create_app(
            EventsSettings(
                database_url="sqlite+aiosqlite://",
                kafka_bootstrap_servers=NO_BROKER,
                environment="test",
                jwt_secret=JWT_SECRET,
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
    """Existing years, actions and registration links besides generated ones."""
    if context.operation is None:
        return st.just(path_parameters)
    path = context.operation.path
    known: dict[str, Any] = dict(path_parameters or {})
    options: list[SearchStrategy[dict[str, Any] | None]] = [st.just(path_parameters)]
    if "{year}" in path:
        known["year"] = 2027
    if "{alliance_id}" in path:
        known["alliance_id"] = ALLIANCE
    if "{action_id}" in path:
        options.append(
            st.sampled_from(ACTION_IDS).map(lambda action_id: {**known, "action_id": action_id})
        )
    elif "{token}" in path:
        options.append(
            st.sampled_from(LINKS).map(
                lambda link: {**known, "registration_id": link[0], "token": link[1]}
            )
        )
    elif known:
        options.append(st.just(known))
    return st.one_of(*options)


@pytest.fixture(scope="module")
def events_service(kafka: KafkaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The events service as its own uvicorn process on a fresh SQLite file; its URL."""
    folder: Path = tmp_path_factory.mktemp("events-schemathesis")
    # Its consumer starts at the end of the topic: the alliance it is seeded with comes
    # next, not after every record earlier tests left on the shared broker.
    asyncio.run(skip_backlog(kafka.bootstrap_servers, CONSUMER_GROUP, [DIRECTORY_ALLIANCE]))
    service = ServiceProcess(
        app="lobu.events.main:create_app",
        port=free_port(),
        env={
            "LOBU_EVENTS_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/events.db",
            "LOBU_EVENTS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "LOBU_EVENTS_ENVIRONMENT": "test",
            "LOBU_EVENTS_JWT_SECRET": JWT_SECRET,
            "LOBU_EVENTS_LOG_JSON": "false",
        },
        log_file=folder / "events.log",
    )
    service.start()
    try:
        _wait_until(lambda: requests.get(f"{service.url}/readyz", timeout=5).status_code == 200)
        yield service.url
    finally:
        service.stop()


def _wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def http(events_service: str) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def seeded(events_service: str, http: requests.Session, kafka: KafkaServer) -> None:
    """An alliance in the replica (through Kafka), an edition, actions and a registration."""
    record = to_kafka_record(alliance_event(ALLIANCE))
    asyncio.run(
        publish_raw(kafka.bootstrap_servers, DIRECTORY_ALLIANCE, value=record.value,
                    key=record.key, headers=record.headers)
    )  # fmt: skip
    http.post(f"{events_service}/editions", json={"year": 2027}, headers=ADMIN)
    body = action_body(alliance_id=ALLIANCE, capacity=3, registration_required=True)

    def created() -> bool:
        response = http.post(f"{events_service}/editions/2027/actions", json=body, headers=ADMIN)
        if response.status_code == 201:
            ACTION_IDS.append(str(response.json()["id"]))
        return response.status_code == 201

    _wait_until(created)
    for _ in range(3):
        assert created()
    for action_id in ACTION_IDS[:2]:
        http.post(f"{events_service}/actions/{action_id}/submit", headers=ADMIN)
        http.post(f"{events_service}/actions/{action_id}/publish", headers=ADMIN)
    for _ in range(4):
        receipt = http.post(
            f"{events_service}/actions/{ACTION_IDS[0]}/registrations",
            json={"name": "Anna Schmidt", "email": "anna@example.org", "seats": 1},
        ).json()
        LINKS.append((receipt["id"], str(receipt["cancel_url"]).rsplit("/", 1)[1]))


FUZZING = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def test_the_fuzzed_document_is_the_one_the_service_serves(
    events_service: str, http: requests.Session
) -> None:
    assert http.get(f"{events_service}/openapi.json").json() == DOCUMENT


@schema.parametrize()
@FUZZING
def test_an_admin_never_gets_a_server_error(
    case: schemathesis.Case[Any], events_service: str, http: requests.Session, seeded: None
) -> None:
    response = case.call(base_url=events_service, session=http, headers=ADMIN, timeout=30)

    case.validate_response(response, checks=CHECKS)


@schema.parametrize()
@FUZZING
def test_without_a_token_only_public_operations_answer(
    case: schemathesis.Case[Any], events_service: str, http: requests.Session, seeded: None
) -> None:
    if case.headers:
        case.headers.pop("Authorization", None)
    response = case.call(base_url=events_service, session=http, timeout=30)

    case.validate_response(response, checks=CHECKS)
    if case.operation.label not in PUBLIC_OPERATIONS:
        assert response.status_code in REFUSALS, (
            f"{case.operation.label} without a token answered {response.status_code}"
        )
