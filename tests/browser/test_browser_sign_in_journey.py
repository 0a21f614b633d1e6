"""Whole journeys of issue 20 in Debian's Chromium, on the real platform.

All four services run as `make run` runs them (uvicorn processes, PostgreSQL, a broker
of this module's own, the SMTP sink), with JavaScript off. A coordinator asks for a
link, follows the one notifications mailed, edits the alliance's entry (and meets the
conflict message when another tab saved first), answers the survey and enters an
Aktionstag action; the Servicebüro signs in the same way, publishes the action and
finds it in the public programme. A used link, a form without its CSRF value and
another alliance's and the staff's pages are refused.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lobu.shared.auth import Role, create_token
from lobu.shared.mailsink import MailSink
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.browser.conftest import chromium_path
from tests.support.kafka_probe import caught_up
from tests.support.kafka_server import KafkaServer, kafka_server
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

if chromium_path() is None:
    pytest.skip(
        "no Chromium at /usr/bin/chromium or on PATH; run scripts/ensure-chromium.sh",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="the Python package playwright is missing")
from playwright.async_api import Browser, BrowserContext, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

SERVICES = ("directory", "surveys", "events", "notifications")
STAFF = "ines.staff@example.org"
YEAR = datetime.now(UTC).year + 1
ADMIN = {"Authorization": f"Bearer {create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ADMIN)}"}
QUESTIONS = [
    {"key": "social-media", "text": "Hat Ihr Bündnis einen Social-Media-Kanal?",
     "type": "single", "required": True,
     "options": [{"code": "ja", "label": "Ja"}, {"code": "nein", "label": "Nein"}]},
]  # fmt: skip


@dataclass
class Portal:
    """The four services and the mail sink."""

    urls: dict[str, str]
    mail: MailSink
    kafka: KafkaServer
    logs: Path

    def link_for(self, address: str) -> str | None:
        """The newest sign-in link mailed to `address`."""
        links = []
        for path in sorted(self.mail.messages()):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] != address:
                continue
            text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            links += re.findall(r"^(http\S+/anmelden/[\w-]+)\s*$", text, flags=re.MULTILINE)
        return links[-1] if links else None


@pytest.fixture(scope="module")
def portal(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    folder: Path = tmp_path_factory.mktemp("portal")
    ports = {name: free_port() for name in SERVICES}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    sink = MailSink(folder / "mail", port=free_port())
    with ExitStack() as stack:
        kafka = stack.enter_context(kafka_server(folder / "kafka"))
        sink.start()
        stack.callback(sink.stop)
        for name in SERVICES:
            database = stack.enter_context(postgres.database(f"{name}_portal"))
            prefix = f"LOBU_{name.upper()}_"
            env = {
                "DATABASE_URL": database, "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "ENVIRONMENT": "development", "JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "OUTBOX_POLL_SECONDS": "0.2", "LOG_JSON": "false",
                **{f"{other.upper()}_URL": url for other, url in urls.items()},
            }  # fmt: skip
            if name == "directory":
                env["STAFF_EMAILS"] = f'["{STAFF}"]'
            if name == "notifications":
                env |= {"SMTP_PORT": str(sink.port), "DELIVERY_POLL_SECONDS": "0.2",
                        "PUBLIC_BASE_URL": urls[name]}  # fmt: skip
            if name == "surveys":
                env["PUBLIC_BASE_URL"] = urls[name]
            if name == "events":
                env["PUBLIC_URL"] = urls[name]
            service = ServiceProcess(
                app=f"lobu.{name}.main:create_app", port=ports[name],
                env={prefix + key: value for key, value in env.items()},
                log_file=folder / f"{name}.log",
            )  # fmt: skip
            service.start()
            stack.callback(service.stop)
        yield Portal(urls=urls, mail=sink, kafka=kafka, logs=folder)


async def _context(browser: Browser) -> BrowserContext:
    context = await browser.new_context(
        locale="de-DE", java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(20_000)
    return context


async def sign_in(portal: Portal, page: Page, address: str) -> str:
    """Ask for a link on the page, follow the mailed one; the link, for a second try."""
    before = portal.link_for(address)  # before asking: the new mail may come at once
    await page.goto(f"{portal.urls['directory']}/anmelden")
    await page.get_by_label("E-Mail-Adresse").fill(address)
    await page.get_by_role("button", name="Anmeldelink anfordern").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bitte sehen Sie in Ihr Postfach"
    )
    link: str = await eventually(
        lambda: (found := portal.link_for(address)) != before and found,
        timeout=90, what=f"the sign-in mail to {address}",
    )  # fmt: skip
    await page.goto(link)
    return link


async def _api(portal: Portal, service: str, method: str, path: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient(base_url=portal.urls[service], headers=ADMIN, timeout=30) as http:
        response = await http.request(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


async def test_a_coordinator_and_the_servicebuero_work_in_the_browser(
    portal: Portal, browser: Browser
) -> None:
    tag = uuid.uuid4().hex[:6]
    coordinator = f"grete.{tag}@example.org"
    alliance = await _api(portal, "directory", "POST", "/alliances", json={
        "name": f"Bündnis Celle {tag}", "state": "NI", "postal_code": "29221", "city": "Celle",
        "contacts": [{"name": "Grete Weiß", "email": coordinator, "role": "Koordination"}],
    })  # fmt: skip
    await _api(portal, "directory", "POST", "/alliances", json={
        "name": f"Bündnis Goslar {tag}", "state": "NI", "postal_code": "38640", "city": "Goslar",
        "contacts": [{"name": "Otto", "email": f"otto.{tag}@example.org"}],
    })  # fmt: skip
    # Surveys and events know an alliance from the directory's topic: wait for both.
    await eventually(
        lambda: caught_up(portal.kafka.bootstrap_servers, "surveys", [DIRECTORY_ALLIANCE]),
        timeout=120, what="surveys to read the alliances",
    )  # fmt: skip
    await eventually(
        lambda: caught_up(portal.kafka.bootstrap_servers, "events", [DIRECTORY_ALLIANCE]),
        timeout=120, what="events to read the alliances",
    )  # fmt: skip
    survey = await _api(portal, "surveys", "POST", "/surveys", json={
        "year": YEAR - 1, "title": f"Bündnisumfrage {tag}", "questions": QUESTIONS,
        "closes_at": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
    })  # fmt: skip
    await _api(portal, "surveys", "POST", f"/surveys/{survey['id']}/open")
    await _api(portal, "events", "POST", "/editions", json={"year": YEAR})

    grete = await (await _context(browser)).new_page()
    link = await sign_in(portal, grete, coordinator)
    await expect(grete).to_have_url(f"{portal.urls['directory']}/mein-buendnis")
    await expect(grete.get_by_text(f"Angemeldet als {coordinator}")).to_be_visible()

    # The entry: a second tab loads the form too, the first saves, the second is too late.
    late = await grete.context.new_page()
    await late.goto(f"{portal.urls['directory']}/mein-buendnis")
    await grete.get_by_label("Koordinierende Stelle").fill("Familienbüro Celle")
    await grete.get_by_role("button", name="Speichern").click()
    await expect(grete.get_by_role("status")).to_have_text("Ihre Änderungen sind gespeichert.")
    await late.get_by_label("Webseite").fill("https://celle.example.org")
    await late.get_by_role("button", name="Speichern").click()
    await expect(late.get_by_role("alert")).to_contain_text("Jemand anderes hat den Eintrag")
    await expect(late.get_by_label("Koordinierende Stelle")).to_have_value("Familienbüro Celle")
    stored = await _api(portal, "directory", "GET", f"/alliances/{alliance['id']}")
    assert stored["coordinating_organisation"] == "Familienbüro Celle"
    assert stored["website"] is None

    # The survey, by the session (no personal link).
    await (
        grete.get_by_role("navigation", name="Anmeldung")
        .get_by_role("link", name="Umfrage")
        .click()
    )
    await grete.get_by_label("Ja", exact=True).check()
    await grete.get_by_role("button", name="Antworten absenden").click()
    await expect(grete.get_by_role("heading", level=1)).to_have_text("Vielen Dank!")

    # An action for the Aktionstag.
    await grete.goto(f"{portal.urls['events']}/mein-buendnis/aktionen")
    await grete.get_by_role("link", name="Neue Aktion eintragen").click()
    title = f"Familienpicknick {tag}"
    await grete.get_by_label("Titel der Aktion").fill(title)
    await grete.get_by_label("Beschreibung").fill("Decken mitbringen.")
    await grete.get_by_label("Beginn (Datum und Uhrzeit)").fill(f"{YEAR}-05-15T12:00")
    await grete.get_by_label("Ende (Datum und Uhrzeit)").fill(f"{YEAR}-05-15T15:00")
    await grete.get_by_label("Ort", exact=True).fill("Celle")
    await grete.get_by_label("Familien", exact=True).check()
    await grete.get_by_role("button", name="Als Entwurf speichern").click()
    await grete.get_by_role("button", name="Aktion einreichen").click()
    await expect(grete.get_by_text("Die Aktion ist eingereicht.")).to_be_visible()

    # What the coordinator may not do: a used link, staff pages, a form without CSRF.
    again = await grete.context.new_page()
    await again.goto(link)
    await expect(again.get_by_role("heading", level=1)).to_have_text(
        "Dieser Anmeldelink gilt nicht mehr"
    )
    for url in (f"{portal.urls['directory']}/verwaltung",
                f"{portal.urls['events']}/verwaltung/aktionen",
                f"{portal.urls['surveys']}/umfragen"):  # fmt: skip
        assert (await again.goto(url)).status == 403, url  # type: ignore[union-attr]
    forged = await grete.context.request.post(
        f"{portal.urls['directory']}/mein-buendnis",
        form={"version": str(stored["version"]), "name": "Gefälscht", "postal_code": "29221",
              "city": "Celle", "state": "NI"},
    )  # fmt: skip
    assert forged.status == 403
    assert (await _api(portal, "directory", "GET", f"/alliances/{alliance['id']}"))["name"] == (
        alliance["name"]
    )
    mine = await _api(
        portal, "events", "GET", f"/editions/{YEAR}/actions",
        params={"state": "submitted", "alliance_id": alliance["id"]},
    )  # fmt: skip
    [action] = mine["items"]
    action_id = action["id"]

    # The Servicebüro signs in the same way and publishes the action.
    staff = await (await _context(browser)).new_page()
    await sign_in(portal, staff, STAFF)
    await expect(staff).to_have_url(f"{portal.urls['directory']}/verwaltung")
    await staff.get_by_role("link", name="Aktionstag: eingereichte Aktionen prüfen").click()
    await expect(staff.get_by_role("heading", name=title)).to_be_visible()
    await staff.get_by_role("button", name="Veröffentlichen").click()
    await expect(staff.get_by_text(f"„{title}“ ist veröffentlicht")).to_be_visible()
    await staff.goto(f"{portal.urls['events']}/aktionstag/{YEAR}")
    await expect(staff.get_by_role("link", name=title)).to_be_visible()
    # And the coordinator of the other alliance never reaches Grete's action.
    otto = await (await _context(browser)).new_page()
    await sign_in(portal, otto, f"otto.{tag}@example.org")
    refused = await otto.goto(f"{portal.urls['events']}/mein-buendnis/aktionen/{action_id}")
    assert refused is not None
    assert refused.status == 404
    # The access log saw the link followed twice, never its secret.
    secret = link.rsplit("/", 1)[1]
    directory_log = (portal.logs / "directory.log").read_text()
    assert "GET /anmelden/…" in directory_log
    assert secret not in directory_log
