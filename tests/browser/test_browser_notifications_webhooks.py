"""The Servicebüro's webhook page in headless Chromium, signed in with the session
cookie: subscribe a receiver (the secret shown once), pause and resume it, rotate its
secret, open its delivery log from the nav, delete it, and sign-out in the header.

The service runs as its own uvicorn process on SQLite against the session's broker,
allowed to send to loopback receivers (nothing is sent: no event arrives).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from lobu.shared.auth import Role
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from tests.browser.conftest import chromium_path
from tests.notifications.conftest import (  # the settings fixture, shared with them
    SettingsFactory,
    notification_settings,  # noqa: F401
)
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, expect

pytestmark = pytest.mark.browser

RECEIVER = "http://127.0.0.1:9/partner-portal/hooks"


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory,
    notification_settings: SettingsFactory,  # noqa: F811
    kafka: KafkaServer,
) -> Iterator[tuple[str, SessionIssuer]]:
    folder: Path = tmp_path_factory.mktemp("browser-webhooks")
    database_url = f"sqlite+aiosqlite:///{folder}/n.db"
    port = free_port()
    settings = notification_settings(
        database_url=database_url, public_base_url=f"http://127.0.0.1:{port}",
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )  # fmt: skip
    process = ServiceProcess(
        app="lobu.notifications.main:create_app",
        port=port,
        env={
            "LOBU_NOTIFICATIONS_DATABASE_URL": database_url,
            "LOBU_NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "LOBU_NOTIFICATIONS_ENVIRONMENT": settings.environment,
            "LOBU_NOTIFICATIONS_JWT_SECRET": str(settings.jwt_secret),
            "LOBU_NOTIFICATIONS_PUBLIC_BASE_URL": settings.public_base_url,
            "LOBU_NOTIFICATIONS_NOTIFICATIONS_URL": f"http://127.0.0.1:{port}",
            "LOBU_NOTIFICATIONS_SMTP_PORT": str(free_port()),
            "LOBU_NOTIFICATIONS_LOG_JSON": "false",
            "LOBU_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "3600",
            "LOBU_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS": json.dumps(["127.0.0.0/8"]),
        },
        log_file=folder / "notifications.log",
    )
    process.start()
    try:
        asyncio.run(
            eventually(
                lambda: requests.get(f"{process.url}/healthz", timeout=5).status_code == 200,
                timeout=60,
                what="notifications to answer",
            )
        )
        yield process.url, SessionIssuer(settings)
    finally:
        process.stop()


@pytest.mark.asyncio(loop_scope="session")
async def test_staff_manage_a_webhook_on_the_page_with_their_session(
    browser: Browser, service: tuple[str, SessionIssuer]
) -> None:
    base_url, issuer = service
    token, _ = issuer.issue(
        subject="staff-1", role=Role.ADMIN, email="sabine.servicebuero@example.org",
        alliance_id=None, lifetime=timedelta(minutes=30),
    )  # fmt: skip
    context = await browser.new_context(
        base_url=base_url, locale="de-DE", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(10_000)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": base_url}])
    try:
        page = await context.new_page()
        await page.goto("/admin/deliveries")
        await expect(
            page.get_by_text("Angemeldet als sabine.servicebuero@example.org")
        ).to_be_visible()
        await expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
        await page.get_by_role("link", name="Webhooks").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks")

        # Nothing chosen: the error stands next to the field, what was typed stays.
        await page.get_by_label("Adresse (URL) des Empfängers").fill(RECEIVER)
        await page.get_by_role("button", name="Webhook einrichten").click()
        await expect(page.locator("#event-types-error")).to_contain_text("mindestens einen")
        await expect(page.get_by_label("Adresse (URL) des Empfängers")).to_have_value(RECEIVER)

        await page.get_by_label(ALLIANCE_CREATED).check()
        await page.get_by_role("button", name="Webhook einrichten").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Webhook eingerichtet")
        secret = (await page.locator("#secret").inner_text()).strip()
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret), secret

        await page.get_by_role("link", name="Zurück zu den Webhooks").click()
        row = page.locator("tbody tr", has_text=RECEIVER)
        await expect(row.locator(".status")).to_contain_text("aktiv")
        assert secret not in await page.content()  # shown once

        await row.get_by_role("button", name="anhalten").click()
        await expect(page.get_by_role("status")).to_contain_text("angehalten")
        await expect(row.locator(".status")).to_contain_text("angehalten")
        await row.get_by_role("button", name="fortsetzen").click()
        await expect(row.locator(".status")).to_contain_text("aktiv")

        await row.get_by_role("button", name="Neues Geheimnis").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Neues Geheimnis")
        rotated = (await page.locator("#secret").inner_text()).strip()
        assert rotated.startswith("whsec_")
        assert rotated != secret
        await page.get_by_role("link", name="Zurück zu den Webhooks").click()

        await row.get_by_role("link", name="Zustellungen").click()
        await page.wait_for_url(re.compile(r"/admin/deliveries\?recipient=[0-9a-f]+"))
        await expect(page.get_by_text("Keine Zustellungen gefunden.")).to_be_visible()
        await page.go_back()

        await row.get_by_role("button", name="löschen").click()
        await expect(page.get_by_role("status")).to_contain_text("gelöscht")
        await expect(page.locator("tbody tr", has_text=RECEIVER)).to_have_count(0)
    finally:
        await context.close()
