"""The Servicebüro's pages of notifications on the session cookie: the delivery log
and the webhook subscriptions. Who may see each page (the authorization matrix), that
a form without its CSRF value is refused and changes nothing, and the webhook page's
use cases. In-process on SQLite; Kafka unreachable on purpose.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from lobu.notifications.main import create_app
from lobu.notifications.models import Delivery, WebhookSubscription
from lobu.notifications.schemas import WebhookCreate
from lobu.shared import utc_now
from lobu.shared.auth import Role
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from tests.notifications.conftest import SettingsFactory
from tests.support.ports import free_port
from tests.support.tokens import bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

DIRECTORY = "http://portal.test:8001"
EVENT_TYPE = ALLIANCE_CREATED
HOOK_URL = "http://127.0.0.1:9/hooks"  # loopback is allowed below; nothing is sent


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def app(
    tmp_path_factory: pytest.TempPathFactory, notification_settings: SettingsFactory
) -> AsyncIterator[FastAPI]:
    folder = tmp_path_factory.mktemp("staff-pages")
    settings = notification_settings(
        database_url=f"sqlite+aiosqlite:///{folder}/n.db", smtp_port=free_port(),
        delivery_poll_seconds=3600, directory_url=DIRECTORY,
        webhook_allowed_networks=["127.0.0.0/8"],
    )  # fmt: skip
    application = create_app(settings)
    application.state.issuer = SessionIssuer(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest_asyncio.fixture(loop_scope="session")
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://notifications.test") as c:
        yield c


def session_of(app: FastAPI, role: Role, alliance_id: str | None = None) -> tuple[str, str]:
    """A session cookie's token and its CSRF value."""
    issuer: SessionIssuer = app.state.issuer
    token, session = issuer.issue(
        subject=f"{role.value}-1", role=role, email=f"{role.value}@example.org",
        alliance_id=alliance_id, lifetime=timedelta(minutes=30),
    )  # fmt: skip
    return token, session.csrf_token


async def new_webhook(app: FastAPI) -> str:
    created = await app.state.webhooks.create(WebhookCreate(url=HOOK_URL, event_types=[EVENT_TYPE]))
    return str(created.id)


async def failed_delivery(app: FastAPI) -> int:
    async with app.state.runtime.sessions() as session, session.begin():
        row = Delivery(
            event_id=f"e-{utc_now().timestamp()}", event_type=EVENT_TYPE,
            recipient="grete@example.org", subject="Willkommen", body="Guten Tag,\n",
            status="failed", attempts=8, last_error="SMTPRecipientsRefused (550)",
        )  # fmt: skip
        session.add(row)
        await session.flush()
        assert row.id is not None
        return row.id


async def webhook_status(app: FastAPI, webhook_id: str) -> str | None:
    async with app.state.runtime.sessions() as session:
        row = await session.get(WebhookSubscription, webhook_id)
        return row.status if row else None


# Every page of notifications for staff: method, path ({hook}: a subscription's id,
# {delivery}: a failed delivery's id), the form a browser would send.
PAGES = [
    ("GET", "/admin/deliveries", {}),
    ("POST", "/admin/deliveries/retry-failed", {"event_type": EVENT_TYPE}),
    ("POST", "/admin/deliveries/{delivery}/retry", {}),
    ("GET", "/admin/webhooks", {}),
    ("POST", "/admin/webhooks", {"url": HOOK_URL, "event_types": EVENT_TYPE}),
    ("POST", "/admin/webhooks/{hook}/pause", {}),
    ("POST", "/admin/webhooks/{hook}/resume", {}),
    ("POST", "/admin/webhooks/{hook}/rotate-secret", {}),
    ("POST", "/admin/webhooks/{hook}/delete", {}),
]
CALLERS = [
    "anonymous",
    "coordinator-session",
    "coordinator-bearer",
    "staff-session",
    "staff-bearer",
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path", "form"), PAGES, ids=[f"{m} {p}" for m, p, _ in PAGES])
async def test_only_staff_reach_the_staff_pages(
    app: FastAPI,
    client: httpx.AsyncClient,
    caller: str,
    method: str,
    path: str,
    form: dict[str, str],
) -> None:
    url = path.format(hook=await new_webhook(app), delivery=await failed_delivery(app))
    cookies: dict[str, str] = {}
    headers: dict[str, str] = {}
    data = dict(form)
    if caller.endswith("-session"):
        role = Role.ADMIN if caller.startswith("staff") else Role.ALLIANCE
        token, csrf = session_of(app, role, None if role is Role.ADMIN else "alliance-a")
        cookies = {SESSION_COOKIE: token}
        data["csrf_token"] = csrf
    elif caller.endswith("-bearer"):
        staff = caller.startswith("staff")
        headers = bearer(Role.ADMIN) if staff else bearer(Role.ALLIANCE, "alliance-a")
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    response = await client.request(
        method, url, data=data if method == "POST" else None, headers=headers
    )

    if caller == "anonymous":
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith(f"{DIRECTORY}/anmelden")
    elif caller.startswith("coordinator"):
        assert response.status_code == 403, response.text
        assert "Kein Zugriff" in response.text
        assert "whsec_" not in response.text
    else:
        assert response.status_code in {200, 201, 303}, response.text
        if response.status_code == 303:
            assert "/anmelden" not in response.headers["location"]
        if method == "GET":
            assert 'lang="de"' in response.text
            assert "Abmelden" in response.text or caller == "staff-bearer"


@pytest.mark.parametrize(
    ("path", "form"),
    [("/admin/webhooks", {"url": HOOK_URL, "event_types": EVENT_TYPE}),
     ("/admin/webhooks/{hook}/pause", {}), ("/admin/webhooks/{hook}/delete", {}),
     ("/admin/webhooks/{hook}/rotate-secret", {}), ("/admin/deliveries/{delivery}/retry", {})],
)  # fmt: skip
@pytest.mark.parametrize("csrf", [None, "forged-value"])
async def test_a_form_without_its_csrf_value_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, path: str, form: dict[str, str], csrf: str | None
) -> None:
    hook = await new_webhook(app)
    delivery = await failed_delivery(app)
    async with app.state.runtime.sessions() as session:
        hooks_before = len((await session.scalars(select(WebhookSubscription))).all())
        before = await session.get(WebhookSubscription, hook)
        assert before is not None
        secret_before = before.secret
    token, _ = session_of(app, Role.ADMIN)
    data = dict(form) | ({"csrf_token": csrf} if csrf else {})
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token)
    response = await client.post(path.format(hook=hook, delivery=delivery), data=data)

    assert response.status_code == 403
    assert "Formular abgelehnt" in response.text
    assert "whsec_" not in response.text
    async with app.state.runtime.sessions() as session:
        assert len((await session.scalars(select(WebhookSubscription))).all()) == hooks_before
        stored = await session.get(WebhookSubscription, hook)
        assert stored is not None
        assert (stored.status, stored.secret) == ("active", secret_before)
        row = await session.get(Delivery, delivery)
        assert row is not None
        assert row.status == "failed"


async def test_the_webhook_page_subscribes_pauses_rotates_and_deletes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    token, csrf = session_of(app, Role.ADMIN)
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, token)
    url = "http://127.0.0.1:9/journey"
    types = [EVENT_TYPE]

    empty = await client.post("/admin/webhooks", data={"url": url, "csrf_token": csrf})
    assert empty.status_code == 422
    assert 'aria-describedby="event-types-error"' in empty.text
    assert "mindestens einen Ereignistyp" in empty.text
    refused = await client.post(
        "/admin/webhooks",
        data={"url": "ftp://example.org/x", "event_types": types, "csrf_token": csrf},
    )
    assert refused.status_code == 422
    assert 'aria-describedby="url-error"' in refused.text
    assert 'value="ftp://example.org/x"' in refused.text  # what was typed stays

    created = await client.post(
        "/admin/webhooks", data={"url": url, "event_types": types, "csrf_token": csrf}
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    [secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", created.text)
    hooks = await app.state.webhooks.list()
    [hook] = [each for each in hooks if each.url == url]

    listing = await client.get("/admin/webhooks")
    assert url in listing.text
    assert secret not in listing.text  # shown once, never again
    assert f'href="/admin/deliveries?recipient={hook.id}"' in listing.text

    paused = await client.post(f"/admin/webhooks/{hook.id}/pause", data={"csrf_token": csrf})
    assert paused.status_code == 303
    assert await webhook_status(app, hook.id) == "paused"
    assert "angehalten" in (await client.get(paused.headers["location"])).text
    resumed = await client.post(f"/admin/webhooks/{hook.id}/resume", data={"csrf_token": csrf})
    assert resumed.status_code == 303
    assert await webhook_status(app, hook.id) == "active"

    rotated = await client.post(
        f"/admin/webhooks/{hook.id}/rotate-secret", data={"csrf_token": csrf}
    )
    assert rotated.status_code == 200
    [new_secret] = re.findall(r"whsec_[A-Za-z0-9+/=]+", rotated.text)
    assert new_secret != secret
    assert "bisherige Geheimnis signiert noch" in rotated.text

    deleted = await client.post(f"/admin/webhooks/{hook.id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303
    assert await webhook_status(app, hook.id) is None
    again = await client.post(f"/admin/webhooks/{hook.id}/pause", data={"csrf_token": csrf})
    assert "nicht (mehr)" in (await client.get(again.headers["location"])).text
