"""The webhook admin API in-process (SQLite, Kafka away): subscribe, read, pause, rotate,
delete, the delivery log and its retry; admin only, problem+json; the app's own sender
delivering to a real receiver; the metrics without URLs in their labels.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.notifications.consumers import alliance_handlers, with_webhooks
from lobu.notifications.main import create_app
from lobu.shared.auth import Role
from lobu.shared.contracts.directory import ALLIANCE_CONTACTS_CHANGED, ALLIANCE_CREATED
from tests.notifications.conftest import SettingsFactory, reactions_for
from tests.notifications.webhooks.webhook_receiver import Receivers, running_receivers
from tests.notifications.webhooks.webhook_support import alliance_created
from tests.support.ports import free_port
from tests.support.tokens import bearer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.unit, pytest.mark.asyncio(loop_scope="session")]

ADMIN = bearer(Role.ADMIN)
PROBLEM_JSON = "application/problem+json"
RUN_ENV = Path(__file__).resolve().parents[3] / "deploy" / "local" / "run.env"


@pytest_asyncio.fixture(loop_scope="session")
async def app(tmp_path: Path, notification_settings: SettingsFactory) -> AsyncIterator[FastAPI]:
    application = create_app(
        notification_settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path}/notifications.db",
            smtp_port=free_port(),
            delivery_poll_seconds=0.1,
            webhook_allowed_networks=["127.0.0.0/8"],
        )
    )
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest_asyncio.fixture(loop_scope="session")
async def receivers() -> AsyncIterator[Receivers]:
    async with running_receivers() as running:
        yield running


async def subscribe(client: httpx.AsyncClient, url: str, **extra: Any) -> httpx.Response:
    body = {"url": url, "event_types": [ALLIANCE_CREATED], **extra}
    return await client.post("/webhooks", json=body, headers=ADMIN)


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    if code is not None:
        assert response.json()["code"] == code


async def test_an_admin_subscribes_and_gets_the_secret_once(
    client: httpx.AsyncClient, receivers: Receivers
) -> None:
    created = await subscribe(client, receivers.at("/portal"))

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert created.headers["location"] == f"/webhooks/{body['id']}"
    shown = (await client.get(f"/webhooks/{body['id']}", headers=ADMIN)).json()
    assert {key: shown[key] for key in ("id", "url", "event_types", "status")} == {
        "id": body["id"],
        "url": receivers.at("/portal"),
        "event_types": [ALLIANCE_CREATED],
        "status": "active",
    }
    assert "secret" not in shown
    listed = (await client.get("/webhooks", headers=ADMIN)).json()["items"]
    assert body["id"] in [each["id"] for each in listed]


async def test_pause_resume_rotate_and_delete(
    client: httpx.AsyncClient, receivers: Receivers
) -> None:
    hook = (await subscribe(client, receivers.at("/lifecycle"))).json()
    path = f"/webhooks/{hook['id']}"

    paused = await client.post(f"{path}/pause", headers=ADMIN)
    resumed = await client.post(f"{path}/resume", headers=ADMIN)
    rotated = await client.post(f"{path}/rotate-secret", headers=ADMIN)
    deleted = await client.delete(path, headers=ADMIN)

    assert paused.json()["status"] == "paused"
    assert resumed.json()["status"] == "active"
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != hook["secret"]
    assert rotated.json()["previous_secret_until"]
    assert deleted.status_code == 204
    assert_problem(await client.get(path, headers=ADMIN), 404, "webhook_not_found")


async def test_only_admins_reach_webhooks(client: httpx.AsyncClient) -> None:
    body = {"url": "https://portal.example.org/hooks", "event_types": [ALLIANCE_CREATED]}

    assert_problem(await client.post("/webhooks", json=body), 401)
    assert_problem(await client.get("/webhooks"), 401)
    coordinator = bearer(Role.ALLIANCE, alliance_id=str(uuid.uuid4()))
    assert_problem(await client.get("/webhooks", headers=coordinator), 403)
    assert_problem(await client.post("/webhooks", json=body, headers=coordinator), 403)


async def test_personal_or_unknown_event_types_and_inside_urls_are_refused(
    client: httpx.AsyncClient, receivers: Receivers
) -> None:
    personal = await client.post(
        "/webhooks",
        json={"url": receivers.at("/x"), "event_types": [ALLIANCE_CONTACTS_CHANGED]},
        headers=ADMIN,
    )
    private = await subscribe(client, "http://10.0.0.8/hooks")
    metadata = await subscribe(client, "http://169.254.169.254/latest/meta-data/")

    assert_problem(personal, 422, "webhook_event_type_unknown")
    assert_problem(private, 422, "webhook_url_refused")
    assert_problem(metadata, 422, "webhook_url_refused")


async def test_the_apps_sender_delivers_and_the_log_shows_it(
    app: FastAPI,
    client: httpx.AsyncClient,
    receivers: Receivers,
    notification_settings: SettingsFactory,
) -> None:
    hook = (await subscribe(client, receivers.at("/live"))).json()
    event = alliance_created(str(uuid.uuid4()))
    handlers = with_webhooks(alliance_handlers(reactions_for(notification_settings())))
    async with app.state.runtime.sessions() as session, session.begin():
        await handlers[ALLIANCE_CREATED](session, event)

    await eventually(lambda: receivers.of("/live"), timeout=60, what="the delivery")
    (got,) = receivers.of("/live")
    assert got.verifies_with(hook["secret"])

    async def log() -> list[dict[str, Any]]:
        page = await client.get(f"/webhooks/{hook['id']}/deliveries", headers=ADMIN)
        return [each for each in page.json()["items"] if each["status"] == "sent"]

    (entry,) = await eventually(log, timeout=60, what="the sent delivery in the log")
    assert (entry["event_id"], entry["channel"], entry["recipient"]) == (
        event.id,
        "webhook",
        hook["id"],
    )
    retry = await client.post(
        f"/webhooks/{hook['id']}/deliveries/{entry['id']}/retry", headers=ADMIN
    )
    assert_problem(retry, 409, "delivery_not_retryable")
    other = await client.post(f"/webhooks/{'0' * 32}/deliveries/{entry['id']}/retry", headers=ADMIN)
    assert_problem(other, 404, "webhook_not_found")

    metrics = (await client.get("/metrics")).text
    assert 'lobu_notifications_deliveries_total{channel="webhook",status="sent"}' in metrics
    assert "lobu_notifications_webhook_subscriptions" in metrics
    assert 'lobu_notifications_retry_backlog{channel="webhook"}' in metrics
    assert receivers.url not in metrics
    assert hook["id"] not in metrics


async def test_make_runs_environment_allows_local_receivers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import honcho.environ

    from lobu.notifications.settings import NotificationSettings
    from lobu.notifications.webhook_urls import check_url

    environment = honcho.environ.parse(RUN_ENV.read_text())
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    networks = NotificationSettings().webhook_allowed_networks

    checked = await check_url("http://127.0.0.1:9000/hook", allowed_networks=networks)
    assert checked.address == "127.0.0.1"
