"""The surveys' results pages in headless Chromium without JavaScript: the admin results
page (charts as inline SVG with their text alternative, filters, a suppressed slice,
the print view), the year-over-year page with the demo data's published changes, and
the public summary.

One surveys process (uvicorn, as `make run` starts it) on a SQLite database that the
fixture filled with the demo data first; Kafka is not needed for reading results, so
the process points at a port where nothing listens and is started on /healthz.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from lobu.shared.auth import Role
from lobu.shared.web_sessions import SESSION_COOKIE
from lobu.surveys.main import create_app
from tests.browser.conftest import chromium_path
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_JWT_SECRET
from tests.surveys.conftest import FakeClock, make_settings, signed_in
from tests.surveys.test_surveys_results_pages import NOTES, load_demo

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, BrowserContext, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@dataclass(frozen=True)
class Surveys:
    url: str
    ids: dict[int, str]


async def _seed(database_url: str) -> dict[int, str]:
    app = create_app(make_settings(database_url), clock=FakeClock())
    async with app.router.lifespan_context(app):  # migrates the database
        return await load_demo(app)


@pytest.fixture(scope="module")
def surveys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Surveys]:
    folder: Path = tmp_path_factory.mktemp("browser-surveys-results")
    database_url = f"sqlite+aiosqlite:///{folder}/s.db"
    ids = asyncio.run(_seed(database_url))
    service = ServiceProcess(
        app="lobu.surveys.main:create_app",
        port=free_port(),
        env={
            "LOBU_SURVEYS_DATABASE_URL": database_url,
            "LOBU_SURVEYS_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",  # nothing listens there
            "LOBU_SURVEYS_ENVIRONMENT": "test",
            "LOBU_SURVEYS_JWT_SECRET": TEST_JWT_SECRET,
            "LOBU_SURVEYS_LOG_JSON": "false",
            "LOBU_SURVEYS_SCHEDULER_SECONDS": "3600",
        },
        log_file=folder / "surveys.log",
    )
    service.start(ready_path="/healthz")
    try:
        yield Surveys(url=service.url, ids=ids)
    finally:
        service.stop()


async def _context(browser: Browser, surveys: Surveys, *, admin: bool) -> BrowserContext:
    context = await browser.new_context(
        base_url=surveys.url, locale="de-DE", java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    if admin:  # signed in as Servicebüro staff: the session cookie the directory sets
        staff = signed_in(make_settings("sqlite://"), Role.ADMIN, email="amt@example.org")
        await context.add_cookies(
            [{"name": SESSION_COOKIE, "value": staff.token, "url": surveys.url}]
        )
    return context


@pytest_asyncio.fixture(loop_scope="session")
async def admin(browser: Browser, surveys: Surveys) -> AsyncIterator[BrowserContext]:
    """Servicebüro staff, signed in (the session cookie)."""
    context = await _context(browser, surveys, admin=True)
    try:
        yield context
    finally:
        await context.close()


async def test_the_results_page_draws_charts_filters_suppresses_and_prints(
    admin: BrowserContext, surveys: Surveys
) -> None:
    page = await admin.new_page()
    await page.goto(f"/umfragen/{surveys.ids[2023]}/ergebnisse")

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ergebnisse: Bündnisumfrage 2023"
    )
    charts = page.get_by_role("img")
    await expect(charts).to_have_count(5)
    social = page.get_by_role("img", name=re.compile(r"^Nutzt Ihr Bündnis einen Social-Media"))
    await expect(social).to_be_visible()
    box = await social.bounding_box()
    assert box is not None
    assert box["height"] > 50  # drawn, not an empty element
    row = page.get_by_role("row", name=re.compile(r"^Ja, wir haben einen eigenen Kanal"))
    await expect(row).to_contain_text("21")
    await expect(row).to_contain_text(re.compile(r"9\s%"))
    await expect(page.get_by_text(NOTES[0]).first).to_be_visible()  # free text, for admins

    await page.get_by_label("Land", exact=True).select_option(label="Bremen")
    await page.get_by_role("button", name="Anzeigen").click()
    await page.wait_for_url(re.compile(r"state=HB"))
    await expect(page.get_by_role("status")).to_contain_text("Ergebnisse unterdrückt")
    await expect(page.locator("main svg")).to_have_count(0)
    await expect(page.get_by_label("Land", exact=True)).to_have_value("HB")

    await page.get_by_label("Land", exact=True).select_option(label="Nordrhein-Westfalen")
    await page.get_by_label("Handlungsfeld").select_option(label="Kinderarmut")
    await page.get_by_role("button", name="Anzeigen").click()
    await page.wait_for_url(re.compile(r"state=NW&topic=kinderarmut"))
    await expect(
        page.get_by_text("Auswahl: Nordrhein-Westfalen, Handlungsfeld Kinderarmut")
    ).to_be_visible()

    await page.emulate_media(media="print")
    await expect(page.locator("form.filters")).to_be_hidden()
    await expect(page.get_by_role("navigation", name="Weitere Ansichten")).to_be_hidden()
    await expect(page.get_by_role("navigation", name="Anmeldung")).to_be_hidden()
    pdf = await page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


async def test_the_year_over_year_page_shows_the_published_changes(
    admin: BrowserContext, surveys: Surveys
) -> None:
    page = await admin.new_page()
    await page.goto("/umfragen")
    await page.get_by_role("link", name="Jahre vergleichen (2023, 2024)").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Vergleich der Jahre 2023, 2024"
    )
    expected = [  # (option, 2023, 2024): as the Servicebüro published them
        ("Ja, wir haben einen eigenen Kanal", "9", "28"),
        ("Nein, wir haben uns bewusst dagegen entschieden", "3", "8"),
        ("Sichtbarkeit", "20", "41"),
    ]
    for option, first, second in expected:
        row = page.get_by_role("row", name=re.compile(f"^{option}"))
        cells = row.get_by_role("cell")
        await expect(cells.nth(0)).to_have_text(re.compile(rf"^{first}\s%$"))
        await expect(cells.nth(1)).to_have_text(re.compile(rf"^{second}\s%$"))
    chart = page.get_by_role("img", name=re.compile(r"Social-Media-Kanal.*2023 und 2024"))
    await expect(chart).to_be_visible()
    description = await page.locator("#vergleich-social-media-beschreibung").text_content()
    assert description is not None
    assert re.search(r"eigenen Kanal: 2023: 9\s%, 2024: 28\s%", description)


async def test_the_public_summary_shows_charts_but_no_free_text(
    browser: Browser, surveys: Surveys
) -> None:
    context = await _context(browser, surveys, admin=False)
    try:
        page = await context.new_page()
        await page.goto("/ergebnisse")
        await page.get_by_role("link", name="Ergebnisse 2024").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Bündnisumfrage 2024: Ergebnisse"
        )
        await expect(page.get_by_role("img")).to_have_count(5)
        for note in NOTES:
            await expect(page.get_by_text(note)).to_have_count(0)
        await expect(page.get_by_label("Handlungsfeld")).to_have_count(0)  # Länder only
        await page.get_by_label("Land", exact=True).select_option(label="Bremen")
        await page.get_by_role("button", name="Anzeigen").click()
        await expect(page.get_by_role("status")).to_contain_text("Ergebnisse unterdrückt")
        response = await context.request.get(
            f"/umfragen/{surveys.ids[2024]}/ergebnisse", max_redirects=0
        )
        assert response.status == 303  # the admin page sends a visitor to sign in
        assert "/anmelden?weiter=" in response.headers["location"]
    finally:
        await context.close()
