"""The answer form in a real headless Chromium (Debian's, driven by Playwright), without
JavaScript: fill in, save a draft, come back, see a message next to a field, submit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from lobu.shared import transaction
from lobu.shared.contracts.surveys import INVITATION_ISSUED
from lobu.surveys.main import create_app
from lobu.surveys.schemas import SurveyCreate
from tests.browser.conftest import CHROMIUM_ARGS, chromium_path
from tests.support.ports import free_port
from tests.support.waiting import eventually
from tests.surveys.conftest import (
    FakeClock,
    alliance_event,
    alliance_snapshot,
    link_token,
    make_settings,
    outbox,
    survey_body,
)

if chromium_path() is None:
    pytest.skip("no Chromium at /usr/bin/chromium (scripts/ensure-chromium.sh)",
                allow_module_level=True)  # fmt: skip
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")

from playwright.async_api import async_playwright, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def served(tmp_path: object) -> AsyncIterator[tuple[FastAPI, str]]:
    """The surveys app behind a real uvicorn on a free port, in this event loop."""
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path}/s.db"), clock=FakeClock())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, timeout=60, what="uvicorn to start")
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_an_alliance_fills_saves_returns_and_submits_the_form(
    served: tuple[FastAPI, str],
) -> None:
    app, url = served
    async with transaction(app.state.runtime.sessions) as session:
        data = alliance_snapshot("b0000000-0000-4000-8000-000000000001")
        await app.state.replica_reactions.on_snapshot(session, alliance_event(data))
    survey = await app.state.catalogue.create(SurveyCreate.model_validate(survey_body()))
    await app.state.catalogue.open(survey.id)
    (message,) = await outbox(app, INVITATION_ISSUED)
    address = f"{url}/umfrage/{link_token(message)}"

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(java_script_enabled=False, locale="de-DE")
            context.set_default_timeout(15_000)
            page = await context.new_page()
            await page.set_viewport_size({"width": 390, "height": 844})  # a phone
            await page.goto(address)
            await expect(page.get_by_role("heading", level=1)).to_have_text("Bündnisumfrage 2026")
            await page.get_by_label("Kinderarmut").check()
            await page.get_by_label("Zahl").fill("7")
            await page.get_by_role("button", name="Zwischenspeichern").click()
            await expect(page.get_by_role("status")).to_contain_text("zwischengespeichert")

            await page.goto(address)  # later, from the email again
            await expect(page.get_by_label("Kinderarmut")).to_be_checked()
            await expect(page.get_by_label("Zahl")).to_have_value("7")

            await page.get_by_role("button", name="Antworten absenden").click()
            alert = page.get_by_role("alert")
            await expect(alert).to_contain_text("Bitte prüfen Sie 1 Antwort")
            await expect(page.locator("#fehler-social-media")).to_have_text(
                "Bitte beantworten Sie diese Frage."
            )
            await page.get_by_label("Ja", exact=True).check()
            await page.get_by_role("button", name="Antworten absenden").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Vielen Dank!")
            await context.close()
        finally:
            await browser.close()
    view = await app.state.catalogue.get(survey.id)
    assert view.respondents == 1
