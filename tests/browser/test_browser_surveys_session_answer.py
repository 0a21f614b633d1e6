"""A coordinator, signed in (the session cookie on the browser), answers the open survey
on `/mein-buendnis/umfrage` in headless Chromium without JavaScript and on a 390 px
phone: a draft, a message next to its field, the submission, and the page that shows
it can still be changed. The personal link is never needed.

One surveys process (uvicorn) on a SQLite database the fixture filled first (an alliance
in the replica, a survey opened); Kafka is not needed, the outbox just keeps the events.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from lobu.shared import transaction, utc_now
from lobu.shared.auth import Role
from lobu.shared.web_sessions import SESSION_COOKIE
from lobu.surveys.main import create_app
from lobu.surveys.schemas import SurveyCreate
from tests.browser.conftest import chromium_path
from tests.support.ports import free_port
from tests.support.service_process import ServiceProcess
from tests.support.tokens import TEST_JWT_SECRET
from tests.surveys.conftest import (
    ADMIN,
    alliance_event,
    alliance_snapshot,
    make_settings,
    signed_in,
    survey_body,
)

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]
ALLIANCE = "00000042-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class Surveys:
    url: str
    survey_id: str


async def _seed(database_url: str) -> str:
    app = create_app(make_settings(database_url))  # the real clock, as the process has
    async with app.router.lifespan_context(app):  # migrates the database
        async with transaction(app.state.runtime.sessions) as session:
            event = alliance_event(alliance_snapshot(ALLIANCE))
            await app.state.replica_reactions.on_snapshot(session, event)
        closes = (utc_now() + timedelta(days=20)).isoformat()
        catalogue = app.state.catalogue
        survey = await catalogue.create(SurveyCreate(**survey_body(closes_at=closes)))
        await catalogue.open(survey.id)
        return str(survey.id)


@pytest.fixture(scope="module")
def surveys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Surveys]:
    folder: Path = tmp_path_factory.mktemp("browser-surveys-session")
    database_url = f"sqlite+aiosqlite:///{folder}/s.db"
    survey_id = asyncio.run(_seed(database_url))
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
        yield Surveys(url=service.url, survey_id=survey_id)
    finally:
        service.stop()


async def test_a_signed_in_coordinator_answers_the_survey_on_a_phone(
    browser: Browser, surveys: Surveys
) -> None:
    grete = signed_in(make_settings("sqlite://"), Role.ALLIANCE, ALLIANCE)
    context = await browser.new_context(
        base_url=surveys.url, locale="de-DE", java_script_enabled=False,
        viewport={"width": 390, "height": 844},
    )  # fmt: skip
    context.set_default_timeout(15_000)
    await context.add_cookies([{"name": SESSION_COOKIE, "value": grete.token, "url": surveys.url}])
    try:
        page = await context.new_page()
        await page.goto("/mein-buendnis/umfrage")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Bündnisumfrage 2026")
        nav = page.get_by_role("navigation", name="Anmeldung")
        await expect(nav).to_contain_text("Angemeldet als grete@example.org")
        await expect(nav.get_by_role("button", name="Abmelden")).to_be_visible()

        await page.get_by_label("Migration").check()
        await page.get_by_label("Zahl").fill("sieben")
        await page.get_by_role("button", name="Zwischenspeichern").click()
        error = page.locator("#fehler-partner")
        await expect(error).to_have_text(re.compile("^Bitte geben Sie eine Zahl ein"))
        partner = page.get_by_role("group", name="Wie viele Partner hat Ihr Bündnis?")
        await expect(partner).to_have_attribute("aria-describedby", re.compile("fehler-partner"))
        await page.get_by_label("Zahl").fill("7")
        await page.get_by_role("button", name="Zwischenspeichern").click()
        await expect(page.get_by_role("status")).to_contain_text("zwischengespeichert")

        await page.get_by_label("Ja", exact=True).check()
        await page.get_by_role("button", name="Antworten absenden").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank!")
        await page.get_by_role("link", name="Antworten ansehen und ändern").click()
        await expect(page.get_by_role("status")).to_contain_text("Ihr Bündnis hat am")
        await expect(page.get_by_label("Migration")).to_be_checked()
        form = await page.locator("main form").bounding_box()
        assert form is not None
        assert form["x"] + form["width"] <= 390  # fits the phone
    finally:
        await context.close()
    async with httpx.AsyncClient(base_url=surveys.url) as client:
        survey = (await client.get(f"/surveys/{surveys.survey_id}", headers=ADMIN)).json()
    assert survey["respondents"] == 1
