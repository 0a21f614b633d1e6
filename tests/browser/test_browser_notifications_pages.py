"""Notifications' pages in headless Chromium: the preference page a mail's unsubscribe
link opens, and the admin delivery log with its filters.

The service runs as its own uvicorn process on SQLite against the session's broker
(it is started once /readyz is ok); the test writes a recipient and deliveries into
its database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import requests

from lobu.notifications.models import Delivery, MailRecipient
from lobu.notifications.routing import Category
from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.directory import ALLIANCE_CREATED, ALLIANCE_DELETED
from lobu.shared.database import create_engine, create_session_factory
from tests.browser.conftest import chromium_path
from tests.notifications.conftest import (  # the settings fixture, shared with them
    SettingsFactory,
    links_for,
    notification_settings,  # noqa: F401
)
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_JWT_SECRET
from tests.support.waiting import eventually

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, BrowserContext, expect

pytestmark = pytest.mark.browser

# Not the Servicebüro's mailbox: mail of the broker's backlog gives that one a key of its own.
ADDRESS = "sabrina.pinto@lokale-buendnisse-fuer-familie.de"
KEY = "browser-test-key-0001"
ADMIN = {"Authorization": f"Bearer {create_token(secret=TEST_JWT_SECRET, role=Role.ADMIN)}"}
# The process reads the shared broker, so deliveries of earlier tests' alliances may
# join these rows in the log: the seeded ones carry MARKER, and the test counts those.
MARKER = "browser-log-7f3c"
GRETE = f"grete.mueller.{MARKER}@example.org"
JOSEF = f"josef.oeztuerk.{MARKER}@example.org"
ROWS = [  # recipient, status, event type, subject
    (GRETE, "sent", ALLIANCE_CREATED, f"Willkommen im Netzwerk ({MARKER})"),
    (JOSEF, "failed", ALLIANCE_CREATED, f"Willkommen im Netzwerk ({MARKER})"),
    (ADDRESS, "suppressed", ALLIANCE_DELETED, f"Ausgetragen: Bündnis <Celle> & Co. ({MARKER})"),
]


@dataclass(frozen=True)
class Notifications:
    url: str
    unsubscribe_path: str
    database_url: str


async def _seed(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(MailRecipient(address=ADDRESS, key=KEY))
            for number, (recipient, status, event_type, subject) in enumerate(ROWS, start=1):
                session.add(
                    Delivery(
                        event_id=f"event-{number}",
                        event_type=event_type,
                        recipient=recipient,
                        subject=subject,
                        body="Guten Tag,\n",
                        status=status,
                        attempts=1,
                        last_error="SMTPRecipientsRefused (550)" if status == "failed" else None,
                    )
                )
    finally:
        await engine.dispose()


async def _add_failed_delivery(
    database_url: str, recipient: str, *, event_type: str = ALLIANCE_CREATED
) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(
                Delivery(
                    event_id=f"event-retry-{recipient}"[:64], event_type=event_type,
                    recipient=recipient, subject=f"Willkommen im Netzwerk ({MARKER})",
                    body="Guten Tag,\n", status="failed", attempts=8,
                    last_error="SMTPRecipientsRefused (550)",
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def notifications(
    tmp_path_factory: pytest.TempPathFactory,
    notification_settings: SettingsFactory,  # noqa: F811
    kafka: KafkaServer,
) -> Iterator[Notifications]:
    folder: Path = tmp_path_factory.mktemp("browser-notifications")
    database_url = f"sqlite+aiosqlite:///{folder}/n.db"
    port = free_port()
    # A real broker: the process is started once /readyz says database and Kafka are ok.
    settings = notification_settings(
        database_url=database_url,
        public_base_url=f"http://127.0.0.1:{port}",
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    service = ServiceProcess(
        app="lobu.notifications.main:create_app",
        port=port,
        env={
            "LOBU_NOTIFICATIONS_DATABASE_URL": database_url,
            "LOBU_NOTIFICATIONS_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "LOBU_NOTIFICATIONS_ENVIRONMENT": settings.environment,
            "LOBU_NOTIFICATIONS_JWT_SECRET": str(settings.jwt_secret),
            "LOBU_NOTIFICATIONS_PUBLIC_BASE_URL": settings.public_base_url,
            "LOBU_NOTIFICATIONS_SMTP_PORT": str(free_port()),
            "LOBU_NOTIFICATIONS_LOG_JSON": "false",
            # Mail of the backlog stays pending: the seeded statuses are the only others.
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
        url = links_for(settings).url(KEY, Category.DIRECTORY_CHANGES)
        yield Notifications(
            url=service.url,
            unsubscribe_path=url.removeprefix(service.url),
            database_url=database_url,
        )
    finally:
        service.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def context(browser: Browser, notifications: Notifications) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile whose relative URLs go to notifications."""
    fresh = await browser.new_context(base_url=notifications.url, locale="de-DE")
    fresh.set_default_timeout(10_000)
    try:
        yield fresh
    finally:
        await fresh.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_the_unsubscribe_link_opens_the_choice_and_saves_it(
    context: BrowserContext, notifications: Notifications
) -> None:
    page = await context.new_page()
    await page.goto(notifications.unsubscribe_path)

    await expect(page).to_have_title("Benachrichtigungen: Änderungen in der Adressdatenbank")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Benachrichtigungen: Änderungen in der Adressdatenbank"
    )
    await expect(page.get_by_text("s…o@lokale-buendnisse-fuer-familie.de")).to_be_visible()
    await expect(page.get_by_label("Jede Nachricht sofort erhalten")).to_be_checked()

    await page.get_by_label("Einmal täglich als Zusammenfassung erhalten").check()
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Gespeichert: Einmal täglich als Zusammenfassung erhalten."
    )

    await page.goto(notifications.unsubscribe_path)  # the choice is stored, not just shown
    await expect(page.get_by_label("Einmal täglich als Zusammenfassung erhalten")).to_be_checked()
    await page.get_by_label("Keine Nachrichten dieser Art mehr erhalten").check()
    await page.get_by_role("button", name="Speichern").click()
    await expect(page.get_by_role("status")).to_contain_text("Keine Nachrichten")


@pytest.mark.asyncio(loop_scope="session")
async def test_a_tampered_link_shows_that_it_is_not_valid(
    context: BrowserContext, notifications: Notifications
) -> None:
    page = await context.new_page()
    response = await page.goto(notifications.unsubscribe_path[:-4] + "AAAA")

    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_have_text("Dieser Link ist nicht gültig")


@pytest.mark.asyncio(loop_scope="session")
async def test_the_delivery_log_lists_and_filters_deliveries_for_admins(
    browser: Browser, notifications: Notifications
) -> None:
    admin = await browser.new_context(
        base_url=notifications.url, locale="de-DE", extra_http_headers=ADMIN
    )
    try:
        page = await admin.new_page()
        await page.goto("/admin/deliveries")

        await expect(page.get_by_role("heading", level=1)).to_have_text("Versandprotokoll")
        rows = page.locator("tbody tr")
        seeded = rows.filter(has_text=MARKER)
        await expect(seeded).to_have_count(len(ROWS))
        # Newest first; what a subject holds is shown as text, never as markup.
        await expect(seeded.first).to_contain_text("Ausgetragen: Bündnis <Celle> & Co.")
        await expect(seeded.first).to_contain_text("suppressed")

        await page.get_by_label("Status").select_option("failed")
        await page.get_by_role("button", name="Filtern").click()
        await page.wait_for_url(re.compile(r"status=failed"))
        await expect(seeded).to_have_count(1)
        await expect(seeded.first).to_contain_text(JOSEF)
        await expect(seeded.first).to_contain_text("SMTPRecipientsRefused (550)")
        for text in await rows.all_inner_texts():
            assert "failed" in text, text

        await page.get_by_label("Status").select_option("")
        await page.get_by_label("Empfänger").fill(GRETE)
        await page.get_by_role("button", name="Filtern").click()
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("sent")
    finally:
        await admin.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_failed_delivery_is_sent_again_from_the_log(
    browser: Browser, notifications: Notifications
) -> None:
    admin = await browser.new_context(
        base_url=notifications.url, locale="de-DE", extra_http_headers=ADMIN
    )
    recipient = f"hilde.retry.{MARKER}@example.org"
    await _add_failed_delivery(notifications.database_url, recipient)
    try:
        page = await admin.new_page()
        await page.goto(f"/admin/deliveries?recipient={recipient}")
        row = page.locator("tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.locator(".status")).to_have_text("failed")

        await row.get_by_role("button", name="erneut senden").click()

        await page.wait_for_url(re.compile(r"retried="))
        await expect(page.get_by_role("status")).to_contain_text("wird erneut gesendet")
        await page.goto(f"/admin/deliveries?recipient={recipient}")
        await expect(row.locator(".status")).to_have_text("pending")
        await expect(row.get_by_role("button")).to_have_count(0)  # only failed ones have one
    finally:
        await admin.close()


@pytest.mark.asyncio(loop_scope="session")
async def test_every_failed_delivery_of_an_event_type_is_sent_again_from_the_log(
    browser: Browser, notifications: Notifications
) -> None:
    kind = f"lobu.test.retry-all-{MARKER}.v1"
    for number in range(2):
        await _add_failed_delivery(
            notifications.database_url, f"alle.{number}.{MARKER}@example.org", event_type=kind
        )
    admin = await browser.new_context(
        base_url=notifications.url, locale="de-DE", extra_http_headers=ADMIN
    )
    try:
        page = await admin.new_page()
        await page.goto(f"/admin/deliveries?status=failed&event_type={kind}")
        await expect(page.locator("tbody tr")).to_have_count(2)

        await page.get_by_role("button", name="Alle fehlgeschlagenen Zustellungen").click()

        await expect(page.get_by_role("status")).to_contain_text("2 fehlgeschlagene")
        await page.goto(f"/admin/deliveries?status=failed&event_type={kind}")
        await expect(page.get_by_text("Keine Zustellungen gefunden.")).to_be_visible()
    finally:
        await admin.close()


def test_only_admins_may_send_a_delivery_again(notifications: Notifications) -> None:
    coordinator = create_token(secret=TEST_JWT_SECRET, role=Role.ALLIANCE, alliance_id="a-1")
    for path in ["/admin/deliveries/1/retry", "/admin/deliveries/retry-failed"]:
        for headers, expected in [({}, 303), ({"Authorization": f"Bearer {coordinator}"}, 403)]:
            response = requests.post(
                f"{notifications.url}{path}", headers=headers, timeout=10, allow_redirects=False
            )
            assert response.status_code == expected, (path, response.text)


def test_the_delivery_log_page_sends_visitors_without_a_session_to_sign_in(
    notifications: Notifications,
) -> None:
    response = requests.get(
        f"{notifications.url}/admin/deliveries", timeout=10, allow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("http://127.0.0.1:8001/anmelden?weiter=")
    assert "@" not in response.text
