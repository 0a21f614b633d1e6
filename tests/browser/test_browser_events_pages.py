"""The Aktionstag pages in headless Chromium: finding an action near a place,
registering (confirmed, then the waiting list for a second person) and cancelling,
which promotes the waiting one; with JavaScript switched off.

The events service runs once for the module as its own uvicorn process on SQLite
against the session's broker; the test puts its alliance into the replica table and
enters the actions through the API, as the Servicebüro would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
import requests

from lobu.events.models import AllianceReplica
from lobu.shared.auth import Role
from lobu.shared.database import create_engine, create_session_factory
from tests.browser.conftest import chromium_path
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_JWT_SECRET, bearer

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
ADMIN = bearer(Role.ADMIN)


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


def _publish(url: str, title: str, **fields: object) -> str:
    body = {
        "alliance_id": ALLIANCE, "title": title, "description": "Für die ganze Familie",
        "starts_at": "2027-05-15T14:00:00+02:00", "ends_at": "2027-05-15T17:00:00+02:00",
        "city": "Lüneburg", "postal_code": "21335", "latitude": 53.2464, "longitude": 10.4115,
        **fields,
    }  # fmt: skip
    created = requests.post(f"{url}/editions/{YEAR}/actions", json=body, headers=ADMIN, timeout=10)
    assert created.status_code == 201, created.text
    action_id = str(created.json()["id"])
    for step in ("submit", "publish"):
        done = requests.post(f"{url}/actions/{action_id}/{step}", headers=ADMIN, timeout=10)
        assert done.status_code == 200, done.text
    return action_id


@pytest.fixture(scope="module")
def events(kafka: KafkaServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The events service's address, with an edition, a small action near Lüneburg and a far one."""
    folder = tmp_path_factory.mktemp("browser-events")
    database_url = f"sqlite+aiosqlite:///{folder}/e.db"
    port = free_port()
    service = ServiceProcess(
        app="lobu.events.main:create_app",
        port=port,
        env={
            "LOBU_EVENTS_DATABASE_URL": database_url,
            "LOBU_EVENTS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "LOBU_EVENTS_ENVIRONMENT": "test",
            "LOBU_EVENTS_JWT_SECRET": TEST_JWT_SECRET,
            "LOBU_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "LOBU_EVENTS_LOG_JSON": "false",
        },
        log_file=folder / "events.log",
    )
    service.start()
    try:
        asyncio.run(_seed_alliance(database_url))
        opened = requests.post(f"{service.url}/editions", json={"year": YEAR}, headers=ADMIN,
                               timeout=10)  # fmt: skip
        assert opened.status_code == 201, opened.text
        _publish(service.url, "Kinderflohmarkt am Sande", capacity=2, registration_required=True)
        _publish(service.url, "Familienwandern im Allgäu", city="Kempten", postal_code="87435",
                 latitude=47.7267, longitude=10.3139)  # fmt: skip
        yield service.url
    finally:
        service.stop()


async def _new_page(browser: Browser, url: str) -> Page:
    # JavaScript off: every step must work with plain links and forms.
    context = await browser.new_context(base_url=url, locale="de-DE", java_script_enabled=False)
    context.set_default_timeout(15_000)
    return await context.new_page()


async def _register(page: Page, name: str, email: str, seats: str) -> None:
    await page.get_by_label("Ihr Name").fill(name)
    await page.get_by_label("Ihre E-Mail-Adresse").fill(email)
    await page.get_by_label("Anzahl Plätze (Personen)").fill(seats)
    await page.get_by_role("button", name="Verbindlich anmelden").click()


async def test_find_near_a_place_register_wait_and_cancel(browser: Browser, events: str) -> None:
    anna = await _new_page(browser, events)
    await anna.goto(f"/aktionstag/{YEAR}")
    await expect(anna.get_by_role("heading", level=1)).to_have_text(
        f"Aktionstag {YEAR}: das Programm"
    )
    await anna.get_by_label("In der Nähe von (Ort)").fill("Lüneburg")
    await anna.get_by_role("button", name="Aktionen suchen").click()
    await expect(
        anna.get_by_role("heading", name="1 Aktion im Umkreis von 25 km um Lüneburg")
    ).to_be_visible()
    await expect(anna.get_by_role("link", name="Familienwandern im Allgäu")).to_have_count(0)
    await expect(anna.locator("svg.germany-map a")).to_have_count(1)
    await anna.get_by_role("link", name="Kinderflohmarkt am Sande").first.click()
    await expect(anna.get_by_role("heading", level=1)).to_have_text("Kinderflohmarkt am Sande")
    await expect(anna.get_by_text("Noch 2 Plätze frei.")).to_be_visible()
    await _register(anna, "Anna Schmidt", "anna@example.org", "2")
    await expect(anna.get_by_role("heading", level=1)).to_have_text("Ihre Anmeldung ist bestätigt")
    await expect(anna.get_by_text("Vielen Dank für Ihre Anmeldung.")).to_be_visible()
    anna_link = anna.url.split("?")[0]

    ben = await _new_page(browser, events)
    await ben.goto(f"/aktionstag/{YEAR}")
    await ben.get_by_role("link", name="Kinderflohmarkt am Sande").first.click()
    await expect(ben.get_by_text("Alle Plätze sind vergeben.", exact=False)).to_be_visible()
    await _register(ben, "Ben Öztürk", "ben@example.org", "1")
    await expect(ben.get_by_role("heading", level=1)).to_have_text("Sie stehen auf der Warteliste")
    await expect(ben.get_by_text("rücken Sie automatisch nach", exact=False)).to_be_visible()

    await anna.goto(anna_link)
    await anna.get_by_role("button", name="Anmeldung zurückziehen").click()
    await expect(anna.get_by_role("heading", level=1)).to_have_text("Abmeldung bestätigt")
    await ben.reload()
    await expect(ben.get_by_role("heading", level=1)).to_have_text("Ihre Anmeldung ist bestätigt")
