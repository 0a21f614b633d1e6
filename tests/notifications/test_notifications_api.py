"""The notifications app in-process on PostgreSQL: the delivery log, health and metrics.

Kafka is deliberately unreachable: the service must serve HTTP all the same.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.notifications.main import create_app
from lobu.notifications.models import Delivery
from lobu.shared import utc_now
from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from tests.notifications.conftest import SettingsFactory
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.tokens import TEST_JWT_SECRET

pytestmark = pytest.mark.integration

PROBLEM_JSON = "application/problem+json"


def bearer(role: Role, alliance_id: str | None = None) -> dict[str, str]:
    token = create_token(secret=TEST_JWT_SECRET, role=role, alliance_id=alliance_id)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN)

# (alliance, event, recipient, status), inserted in this order: ids grow down the list.
ROWS = [
    ("alliance-a", "event-a", "grete.mueller@example.org", "sent"),
    ("alliance-a", "event-a", "josef.oeztuerk@example.org", "pending"),
    ("alliance-b", "event-b", "anna.weiss@example.org", "failed"),
    ("alliance-a", "event-a", "bernd.schaefer@example.org", "pending"),
    ("alliance-b", "event-b", "jule.koenig@example.org", "pending"),
]


@pytest.fixture(scope="module")
def database_url(postgres: PostgresServer) -> Iterator[str]:
    with postgres.database("notifications") as url:
        yield url


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app(database_url: str, notification_settings: SettingsFactory) -> AsyncIterator[FastAPI]:
    """The real app, started (migrations run, Kafka retried in the background), with rows."""
    application = create_app(
        notification_settings(database_url=database_url, smtp_port=free_port())
    )
    async with application.router.lifespan_context(application):
        # Pending rows are due far in the future: the running dispatcher leaves them be.
        later = utc_now() + timedelta(days=1)
        async with application.state.runtime.sessions() as session, session.begin():
            for alliance_id, event_id, recipient, status in ROWS:
                session.add(
                    Delivery(
                        event_id=event_id,
                        event_type=ALLIANCE_CREATED,
                        alliance_id=alliance_id,
                        recipient=recipient,
                        subject="Willkommen im Netzwerk der Lokalen Bündnisse für Familie",
                        body="Guten Tag,\n",
                        status=status,
                        attempts=0 if status == "pending" else 1,
                        sent_at=utc_now() if status == "sent" else None,
                        last_error="SMTPConnectError: refused" if status == "failed" else None,
                        next_attempt_at=later,
                    )
                )
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


async def get_deliveries(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/deliveries", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return dict(response.json())


def recipients(page: dict[str, Any]) -> list[str]:
    return [item["recipient"] for item in page["items"]]


def newest_first(rows: list[tuple[str, str, str, str]]) -> list[str]:
    return [recipient for _, _, recipient, _ in reversed(rows)]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = dict(response.json())
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert problem["type"].startswith("https://")
    return problem


# --- health -----------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_without_kafka_the_service_is_alive_but_not_ready(
    client: httpx.AsyncClient,
) -> None:
    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "kafka": "unreachable"},
    }


# --- who may read the log ---------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_the_delivery_log_without_a_token_is_401_problem_json(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/deliveries")

    problem = assert_problem(response, 401)
    assert problem["code"] == "http_401"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "@" not in response.text


@pytest.mark.asyncio(loop_scope="session")
async def test_the_delivery_log_with_a_forged_token_is_401(client: httpx.AsyncClient) -> None:
    forged = create_token(secret="not-the-secret-but-long-enough-for-hs256", role=Role.ADMIN)

    response = await client.get("/deliveries", headers={"Authorization": f"Bearer {forged}"})

    assert_problem(response, 401)
    assert "@" not in response.text


@pytest.mark.asyncio(loop_scope="session")
async def test_the_delivery_log_for_an_alliance_token_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/deliveries", headers=bearer(Role.ALLIANCE, alliance_id="x"))

    problem = assert_problem(response, 403)
    assert problem["code"] == "http_403"
    assert "@" not in response.text


# --- reading the log --------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_admins_read_every_delivery_newest_first(client: httpx.AsyncClient) -> None:
    page = await get_deliveries(client)

    assert recipients(page) == newest_first(ROWS)
    ids = [item["id"] for item in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert page["next_cursor"] is None
    first = page["items"][0]
    assert first["status"] == "pending"
    assert first["event_type"] == ALLIANCE_CREATED
    assert first["channel"] == "email"
    assert first["subject"] == "Willkommen im Netzwerk der Lokalen Bündnisse für Familie"
    assert first["created_at"].endswith(("Z", "+00:00"))
    assert "body" not in first
    sent = next(item for item in page["items"] if item["status"] == "sent")
    assert sent["sent_at"] is not None
    failed = next(item for item in page["items"] if item["status"] == "failed")
    assert failed["last_error"] == "SMTPConnectError: refused"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "pending"}, [row for row in ROWS if row[3] == "pending"]),
        ({"status": "sent"}, [row for row in ROWS if row[3] == "sent"]),
        ({"status": "failed"}, [row for row in ROWS if row[3] == "failed"]),
        ({"alliance_id": "alliance-b"}, [row for row in ROWS if row[0] == "alliance-b"]),
        (
            {"alliance_id": "alliance-a", "status": "pending"},
            [row for row in ROWS if row[0] == "alliance-a" and row[3] == "pending"],
        ),
        ({"event_id": "event-a"}, [row for row in ROWS if row[1] == "event-a"]),
        ({"alliance_id": "nobody"}, []),
    ],
    ids=["pending", "sent", "failed", "alliance", "alliance-and-status", "event", "no-match"],
)
async def test_filters_narrow_the_log(
    client: httpx.AsyncClient,
    params: dict[str, str],
    expected: list[tuple[str, str, str, str]],
) -> None:
    page = await get_deliveries(client, **params)

    assert recipients(page) == newest_first(expected)
    assert page["next_cursor"] is None


@pytest.mark.asyncio(loop_scope="session")
async def test_pages_of_two_walk_every_delivery_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    for _ in range(len(ROWS) + 1):  # never loops forever
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await get_deliveries(client, **params)
        seen += recipients(page)
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert cursor is None
    assert sizes == [2, 2, 1]
    assert seen == newest_first(ROWS)
    assert len(set(seen)) == len(seen)


@pytest.mark.asyncio(loop_scope="session")
async def test_pages_keep_the_filter(client: httpx.AsyncClient) -> None:
    first = await get_deliveries(client, status="pending", limit=2)
    assert first["next_cursor"] is not None
    second = await get_deliveries(client, status="pending", limit=2, cursor=first["next_cursor"])

    pending = [row for row in ROWS if row[3] == "pending"]
    assert recipients(first) + recipients(second) == newest_first(pending)
    assert second["next_cursor"] is None


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    "cursor", ["garbage!!", "bm90IGpzb24", "WzEsMl0"], ids=["noise", "not-json", "two-keys"]
)
async def test_a_cursor_not_handed_out_is_422_problem_json(
    client: httpx.AsyncClient, cursor: str
) -> None:
    response = await client.get("/deliveries", params={"cursor": cursor}, headers=ADMIN)

    problem = assert_problem(response, 422)
    assert problem["code"] == "invalid_cursor"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("key", ["x", None, 10**20], ids=["text", "null", "out-of-range"])
async def test_a_cursor_whose_key_is_not_an_id_is_422(app: FastAPI, key: object) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/deliveries", params={"cursor": cursor}, headers=ADMIN)

    problem = assert_problem(response, 422)
    assert problem["code"] == "invalid_cursor"


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"alliance_id": "x" * 65}, "alliance_id"),
    ],
    ids=["status", "limit-zero", "limit-too-big", "alliance-too-long"],
)
async def test_invalid_query_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/deliveries", params=params, headers=ADMIN)

    problem = assert_problem(response, 422)
    assert problem["code"] == "validation_error"
    assert [error["field"] for error in problem["errors"]] == [field]
    assert field in problem["detail"]


# --- metrics ----------------------------------------------------------------------------


@pytest.mark.asyncio(loop_scope="session")
async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await get_deliveries(client)

    response = await client.get("/metrics")

    assert response.status_code == 200
    lines = response.text.splitlines()
    counted = [
        line
        for line in lines
        if line.startswith("lobu_http_requests_total{")
        and 'route="/deliveries"' in line
        and 'service="notifications"' in line
        and 'status="200"' in line
    ]
    assert counted, response.text
    assert float(counted[0].rsplit(" ", 1)[1]) >= 1
    assert "# TYPE lobu_notifications_deliveries_total counter" in lines
