"""„Mein Bündnis – Aktionstag“ and the moderation queue in headless Chromium, JavaScript off:
a coordinator enters an action in the form and submits it, the Servicebüro publishes it
from the queue, and it is in the public programme.

The events service runs once for the module as its own uvicorn process on SQLite; no
broker is needed for this journey (the outbox keeps the facts), so none is started.
The session cookies are made as the directory's sign-in makes them (SessionIssuer)
and set on each browser context.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from lobu.events.models import AllianceReplica
from lobu.shared.auth import Role
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.settings import ServiceSettings
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from tests.browser.conftest import chromium_path
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_AUTH, TEST_JWT_SECRET, bearer

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

YEAR = 2027
ALLIANCE = str(uuid.uuid4())
NO_BROKER = "127.0.0.1:9"


async def _seed_alliance(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            session.add(
                AllianceReplica(
                    id=ALLIANCE, slug="buendnis-lueneburg", name="Bündnis für Familie Lüneburg",
                    state="NI", city="Lüneburg", postal_code="21335", latitude=53.2464,
                    longitude=10.4115, version=1,
                )
            )  # fmt: skip
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The events service's address, with an open edition and the alliance in its replica."""
    folder = tmp_path_factory.mktemp("browser-events-self-service")
    database_url = f"sqlite+aiosqlite:///{folder}/e.db"
    port = free_port()
    service = ServiceProcess(
        app="lobu.events.main:create_app",
        port=port,
        env={
            "LOBU_EVENTS_DATABASE_URL": database_url,
            "LOBU_EVENTS_KAFKA_BOOTSTRAP_SERVERS": NO_BROKER,
            "LOBU_EVENTS_ENVIRONMENT": "test",
            "LOBU_EVENTS_JWT_SECRET": TEST_JWT_SECRET,
            "LOBU_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "LOBU_EVENTS_EVENTS_URL": f"http://127.0.0.1:{port}",
            "LOBU_EVENTS_LOG_JSON": "false",
        },
        log_file=folder / "events.log",
    )
    service.start(ready_path="/healthz")
    try:
        asyncio.run(_seed_alliance(database_url))
        opened = requests.post(f"{service.url}/editions", json={"year": YEAR},
                               headers=bearer(Role.ADMIN), timeout=10)  # fmt: skip
        assert opened.status_code == 201, opened.text
        yield service.url
    finally:
        service.stop()


async def _signed_in(browser: Browser, url: str, role: Role, alliance: str | None) -> Page:
    token, _session = SessionIssuer(ServiceSettings(**TEST_AUTH)).issue(
        subject=f"person:{role.value}", role=role, email=f"{role.value}@example.org",
        alliance_id=alliance, lifetime=timedelta(minutes=30),
    )  # fmt: skip
    # JavaScript off: every step must work with plain links and forms.
    context = await browser.new_context(base_url=url, locale="de-DE", java_script_enabled=False,
                                        viewport={"width": 390, "height": 844})  # fmt: skip
    context.set_default_timeout(15_000)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": token, "url": url}])
    return await context.new_page()


async def test_enter_submit_publish_and_see_it_in_the_programme(
    browser: Browser, events: str
) -> None:
    grete = await _signed_in(browser, events, Role.ALLIANCE, ALLIANCE)
    await grete.goto("/mein-buendnis/aktionen")
    await expect(grete.get_by_role("heading", level=1)).to_have_text(
        f"Mein Bündnis – Aktionstag {YEAR}"
    )
    await expect(grete.get_by_text("Angemeldet als alliance@example.org")).to_be_visible()
    await grete.get_by_role("link", name="Neue Aktion eintragen").click()
    await grete.get_by_label("Titel der Aktion").fill("Familienpicknick im Kurpark")
    await grete.get_by_label("Beschreibung").fill("Decken mitbringen, für Essen ist gesorgt.")
    await grete.get_by_label("Beginn (Datum und Uhrzeit)").fill(f"{YEAR}-05-15T12:00")
    await grete.get_by_label("Ende (Datum und Uhrzeit)").fill(f"{YEAR}-05-15T10:00")
    await grete.get_by_label("Ort", exact=True).fill("Lüneburg")
    await grete.get_by_label("Familien", exact=True).check()
    await grete.get_by_role("button", name="Als Entwurf speichern").click()
    # The end before the start: the message stands next to the field.
    end = grete.get_by_label("Ende (Datum und Uhrzeit)")
    await expect(end).to_have_attribute("aria-invalid", "true")
    await expect(grete.locator("#ends_at-fehler")).to_have_text(
        "Das Ende muss nach dem Beginn liegen."
    )
    await end.fill(f"{YEAR}-05-15T15:00")
    await grete.get_by_role("button", name="Als Entwurf speichern").click()
    await expect(grete.get_by_text("Die Aktion ist als Entwurf gespeichert.")).to_be_visible()
    await grete.get_by_role("button", name="Aktion einreichen").click()
    await expect(grete.get_by_text("Die Aktion ist eingereicht.")).to_be_visible()
    await expect(grete.locator(".state")).to_have_text("eingereicht")

    staff = await _signed_in(browser, events, Role.ADMIN, None)
    await staff.goto("/verwaltung/aktionen")
    await expect(staff.get_by_role("heading", name="Eine eingereichte Aktion wartet",
                                   exact=False)).to_be_visible()  # fmt: skip
    await expect(staff.get_by_role("heading", name="Familienpicknick im Kurpark")).to_be_visible()
    await staff.get_by_role("button", name="Veröffentlichen").click()
    await expect(
        staff.get_by_text("„Familienpicknick im Kurpark“ ist veröffentlicht")
    ).to_be_visible()
    await staff.get_by_role("link", name=f"Öffentliches Programm {YEAR}").click()
    await staff.get_by_role("link", name="Familienpicknick im Kurpark").first.click()
    await expect(staff.get_by_role("heading", level=1)).to_have_text("Familienpicknick im Kurpark")

    await grete.goto("/mein-buendnis/aktionen")
    await expect(grete.locator(".state")).to_have_text("veröffentlicht")
