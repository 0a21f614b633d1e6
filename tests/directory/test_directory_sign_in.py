"""Sign-in by one-time link and „Mein Bündnis“, on SQLite and PostgreSQL.

The link request answers every address alike and publishes a link only for a known
one; a link works once (also when clicked twice at once), not after it expired, and
not for a contact removed in the meantime; the session it sets opens the coordinator's
form, which saves as a compare-and-set on the version and refuses a post without the
session's CSRF value. Every step is audited without the address.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select, update

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.directory.sign_in_models import SignInAuditEntry, SignInLink
from lobu.shared import utc_now
from lobu.shared.auth import Role
from lobu.shared.contracts.directory import SIGN_IN_LINK_REQUESTED
from lobu.shared.outbox import OutboxMessage
from lobu.shared.web_sessions import SESSION_COOKIE
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
STAFF = "ines.servicebuero@example.org"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')


@pytest_asyncio.fixture(loop_scope="session")
async def directory(database_url: str) -> AsyncIterator[FastAPI]:
    """The directory without Kafka (the outbox keeps the link events), small limits."""
    app = create_app(
        DirectorySettings(
            database_url=database_url, kafka_bootstrap_servers="127.0.0.1:1", log_json=False,
            staff_emails=[STAFF], sign_in_limit_per_address=3, sign_in_limit_per_client=50,
            directory_url="http://portal.test", **TEST_AUTH,
        )
    )  # fmt: skip
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


async def add_alliance(app: FastAPI, name: str, *contacts: str) -> dict[str, Any]:
    body = {
        "name": name, "state": "NI", "postal_code": "38640", "city": "Goslar",
        "contacts": [{"name": f"Kontakt {email}", "email": email} for email in contacts],
    }  # fmt: skip
    async with client_of(app) as http:
        response = await http.post("/alliances", json=body, headers=bearer(Role.ADMIN))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def ask_for_link(http: httpx.AsyncClient, email: str, **extra: str) -> httpx.Response:
    form = urlencode({"email": email, **extra})
    return await http.post("/anmelden", content=form, headers=FORM_HEADERS)


async def links_for(app: FastAPI, email: str) -> list[str]:
    """The links the directory published for `email`, oldest first (from the outbox)."""
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == SIGN_IN_LINK_REQUESTED)
            .order_by(OutboxMessage.position)
        )
        return [row.data["link"] for row in rows if row.data.get("email") == email]


@asynccontextmanager
async def signed_in(app: FastAPI, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding the session of `email`, signed in through a mailed link."""
    async with client_of(app, f"192.0.2.{len(email) % 250}") as http:
        assert (await ask_for_link(http, email)).status_code == 200
        link = (await links_for(app, email))[-1]
        followed = await http.get(link.removeprefix("http://portal.test"))
        assert followed.status_code == 303, followed.text
        http.cookies.set(SESSION_COOKIE, followed.cookies[SESSION_COOKIE])
        yield http


async def test_every_address_gets_the_same_answer_and_only_a_known_one_a_link(
    directory: FastAPI,
) -> None:
    await add_alliance(directory, "Anmeldebündnis Gleich", "gleich@example.org")
    async with client_of(directory) as http:
        known = await ask_for_link(http, "Gleich@Example.org ")
        unknown = await ask_for_link(http, "niemand@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text
    assert "Postfach" in known.text
    [link] = await links_for(directory, "gleich@example.org")
    assert re.fullmatch(r"http://portal\.test/anmelden/[A-Za-z0-9_-]{40,}", link)
    assert await links_for(directory, "niemand@example.org") == []
    async with directory.state.runtime.sessions() as session:
        stored = list(await session.scalars(select(SignInLink)))
    secret = link.rsplit("/", 1)[1]
    assert all(secret not in row.token_hash for row in stored)  # only its hash is kept


async def test_a_link_sets_the_session_once_and_leads_to_mein_buendnis(
    directory: FastAPI,
) -> None:
    alliance = await add_alliance(directory, "Anmeldebündnis Einmal", "einmal@example.org")
    async with client_of(directory) as http:
        await ask_for_link(http, "einmal@example.org")
        [link] = await links_for(directory, "einmal@example.org")
        path = link.removeprefix("http://portal.test")
        first = await http.get(path)
        assert first.status_code == 303
        assert first.headers["location"] == "http://portal.test/mein-buendnis"
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=lax" in cookie
        assert "Secure" not in cookie  # environment test: plain http
        again = await http.get(path)
        assert again.status_code == 410
        assert "schon benutzt" in again.text
        http.cookies.set(SESSION_COOKIE, first.cookies[SESSION_COOKIE])
        page = await http.get("/mein-buendnis")
    assert page.status_code == 200
    assert alliance["name"] in page.text
    assert "Angemeldet als einmal@example.org" in page.text


async def test_two_clicks_at_once_open_one_session(directory: FastAPI) -> None:
    await add_alliance(directory, "Anmeldebündnis Doppelklick", "doppel@example.org")
    async with client_of(directory) as http:
        await ask_for_link(http, "doppel@example.org")
        [link] = await links_for(directory, "doppel@example.org")
        path = link.removeprefix("http://portal.test")
        answers = await asyncio.gather(*(http.get(path) for _ in range(6)))
    assert sorted(answer.status_code for answer in answers) == [303] + [410] * 5


async def test_an_expired_link_and_a_made_up_one_are_refused(directory: FastAPI) -> None:
    await add_alliance(directory, "Anmeldebündnis Abgelaufen", "alt@example.org")
    async with client_of(directory) as http:
        await ask_for_link(http, "alt@example.org")
        [link] = await links_for(directory, "alt@example.org")
        async with directory.state.runtime.sessions() as session, session.begin():
            await session.execute(
                update(SignInLink).values(expires_at=utc_now() - timedelta(seconds=1))
            )
        assert (await http.get(link.removeprefix("http://portal.test"))).status_code == 410
        assert (await http.get("/anmelden/" + "x" * 43)).status_code == 410


async def test_a_contact_removed_after_the_mail_gets_no_session(directory: FastAPI) -> None:
    alliance = await add_alliance(directory, "Anmeldebündnis Entfernt", "weg@example.org")
    async with client_of(directory) as http:
        await ask_for_link(http, "weg@example.org")
        [link] = await links_for(directory, "weg@example.org")
        removed = await http.patch(
            f"/alliances/{alliance['id']}", json={"contacts": []},
            headers=bearer(Role.ADMIN) | {"If-Match": f'"{alliance["version"]}"'},
        )  # fmt: skip
        assert removed.status_code == 200, removed.text
        assert (await http.get(link.removeprefix("http://portal.test"))).status_code == 410


async def test_link_requests_stop_at_the_limit_for_known_and_unknown_alike(
    directory: FastAPI,
) -> None:
    await add_alliance(directory, "Anmeldebündnis Grenze", "grenze@example.org")
    async with client_of(directory, "198.51.100.9") as http:
        for email in ("grenze@example.org", "unbekannt.grenze@example.org"):
            statuses = [(await ask_for_link(http, email)).status_code for _ in range(5)]
            assert statuses == [200, 200, 200, 429, 429], email
    assert len(await links_for(directory, "grenze@example.org")) == 3


async def test_staff_sign_in_as_admins_and_land_on_the_staff_page(directory: FastAPI) -> None:
    async with signed_in(directory, STAFF) as http:
        page = await http.get("/verwaltung")
        assert page.status_code == 200
        assert "Verwaltung des Servicebüros" in page.text
        assert (await http.get("/mein-buendnis")).status_code == 403


async def test_the_form_saves_and_a_stale_version_shows_the_conflict(directory: FastAPI) -> None:
    alliance = await add_alliance(directory, "Anmeldebündnis Formular", "form@example.org")
    async with signed_in(directory, "form@example.org") as http:
        page = await http.get("/mein-buendnis")
        csrf = CSRF.search(page.text)[1]  # type: ignore[index]
        version = VERSION.search(page.text)[1]  # type: ignore[index]
        form = {
            "csrf_token": csrf, "version": version, "name": "Anmeldebündnis Formular Neu",
            "postal_code": "38640", "city": "Goslar", "state": "NI", "topics": "kinderbetreuung",
            "contact-0-name": "Kontakt form@example.org", "contact-0-email": "form@example.org",
            "contact-1-name": "Neue Kollegin", "contact-1-email": "kollegin@example.org",
            "contact-1-role": "Vorsitz", "partner-0-name": "", "partner-0-type": "",
        }  # fmt: skip
        saved = await http.post("/mein-buendnis", content=urlencode(form), headers=FORM_HEADERS)
        assert saved.status_code == 303, saved.text
        assert saved.headers["location"] == "/mein-buendnis?gespeichert=1"
        private = f"/alliances/{alliance['id']}/private"
        stored = (await http.get(private, headers=bearer(Role.ADMIN))).json()
        assert stored["name"] == "Anmeldebündnis Formular Neu"
        assert stored["topics"] == ["kinderbetreuung"]
        assert [c["email"] for c in stored["contacts"]] == [
            "form@example.org", "kollegin@example.org",
        ]  # fmt: skip
        stale = await http.post(
            "/mein-buendnis", content=urlencode(form | {"name": "Zu spät"}), headers=FORM_HEADERS
        )
        assert stale.status_code == 409
        assert "Jemand anderes hat den Eintrag gespeichert" in stale.text
        assert "Anmeldebündnis Formular Neu" in stale.text  # the current entry is shown
        wrong = form | {"version": str(stored["version"]), "postal_code": "3864"}
        refused = await http.post("/mein-buendnis", content=urlencode(wrong), headers=FORM_HEADERS)
        assert refused.status_code == 422
        assert "keine Postleitzahl" in refused.text
        assert 'aria-describedby="postal_code-fehler"' in refused.text


async def test_a_form_without_the_csrf_value_is_refused_and_changes_nothing(
    directory: FastAPI,
) -> None:
    alliance = await add_alliance(directory, "Anmeldebündnis Fremdformular", "csrf@example.org")
    async with signed_in(directory, "csrf@example.org") as http:
        form = {"version": "1", "name": "Gefälscht", "postal_code": "38640", "city": "Goslar",
                "state": "NI"}  # fmt: skip
        refused = await http.post("/mein-buendnis", content=urlencode(form), headers=FORM_HEADERS)
        assert refused.status_code == 403
        signed_out = await http.post("/abmelden", content="", headers=FORM_HEADERS)
        assert signed_out.status_code == 403  # sign-out is a form too
        stored = (await http.get(f"/alliances/{alliance['id']}", headers=bearer(Role.ADMIN))).json()
    assert stored["name"] == "Anmeldebündnis Fremdformular"


async def test_signing_out_ends_the_session_and_the_audit_keeps_no_address(
    directory: FastAPI,
) -> None:
    await add_alliance(directory, "Anmeldebündnis Abmelden", "ab@example.org")
    async with signed_in(directory, "ab@example.org") as http:
        csrf = CSRF.search((await http.get("/mein-buendnis")).text)[1]  # type: ignore[index]
        out = await http.post(
            "/abmelden", content=urlencode({"csrf_token": csrf}), headers=FORM_HEADERS
        )
        assert out.status_code == 303
        assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
        http.cookies.clear()
        assert (await http.get("/mein-buendnis")).status_code == 303
    async with directory.state.runtime.sessions() as session:
        entries = list(await session.scalars(select(SignInAuditEntry)))
    actions = {entry.action for entry in entries}
    assert {"link_sent", "signed_in", "signed_out"} <= actions
    assert all("ab@example.org" not in repr(entry.model_dump()) for entry in entries)


async def test_a_contact_of_two_alliances_switches_between_them(directory: FastAPI) -> None:
    first = await add_alliance(directory, "Anmeldebündnis A-Stadt", "zwei@example.org")
    second = await add_alliance(directory, "Anmeldebündnis B-Dorf", "zwei@example.org")
    other = await add_alliance(directory, "Anmeldebündnis Fremd", "fremd@example.org")
    async with signed_in(directory, "zwei@example.org") as http:
        page = await http.get("/mein-buendnis")
        assert first["name"] in page.text
        csrf = CSRF.search(page.text)[1]  # type: ignore[index]
        for wanted, expected in ((other, first), (second, second)):
            form = urlencode({"csrf_token": csrf, "alliance_id": wanted["id"]})
            switched = await http.post(
                "/mein-buendnis/wechseln", content=form, headers=FORM_HEADERS
            )
            assert switched.status_code == 303
            if SESSION_COOKIE in switched.cookies:
                http.cookies.set(SESSION_COOKIE, switched.cookies[SESSION_COOKIE])
            assert f"<strong>{expected['name']}</strong>" in (await http.get("/mein-buendnis")).text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_who_may_see_which_directory_page(directory: FastAPI) -> None:
    """The authorization matrix of the directory's pages (303: to the sign-in page)."""
    await add_alliance(directory, "Anmeldebündnis Matrix", "matrix@example.org")
    anonymous = client_of(directory)
    pages = {  # path: (anonymous, coordinator, staff)
        "/": (200, 200, 200),
        "/anmelden": (200, 200, 200),
        "/mein-buendnis": (303, 200, 403),
        "/verwaltung": (303, 403, 200),
        "/verwaltung/datenschutz/unbekannt": (303, 403, 404),
    }
    async with (
        anonymous,
        signed_in(directory, "matrix@example.org") as coordinator,
        signed_in(directory, STAFF) as staff,
    ):
        for path, expected in pages.items():
            got = tuple(
                [(await http.get(path)).status_code for http in (anonymous, coordinator, staff)]
            )
            assert got == expected, path


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_staff_enter_a_privacy_request_in_the_browser(directory: FastAPI) -> None:
    async with signed_in(directory, STAFF) as staff:
        csrf = CSRF.search((await staff.get("/verwaltung")).text)[1]  # type: ignore[index]
        form = {"csrf_token": csrf, "email": "Person@Example.org", "kind": "access"}
        entered = await staff.post(
            "/verwaltung/datenschutz", content=urlencode(form), headers=FORM_HEADERS
        )
        assert entered.status_code == 303
        page = await staff.get(entered.headers["location"])
        assert page.status_code == 200
        assert "Auskunft (Art. 15 und 20 DSGVO)" in page.text
        assert page.text.count("in Bearbeitung") >= 4  # every service, until each answers
        assert "Person@Example.org" not in page.text
        assert "person@example.org" not in page.text
        bad = await staff.post(
            "/verwaltung/datenschutz", content=urlencode(form | {"email": "kein"}),
            headers=FORM_HEADERS,
        )  # fmt: skip
        assert bad.status_code == 422
        assert "gültige E-Mail-Adresse" in bad.text


async def test_an_erasure_takes_the_sign_in_links_and_audit_of_the_address(
    directory: FastAPI,
) -> None:
    from lobu.directory.privacy_data import DirectoryPersonalData
    from lobu.shared.privacy import AddressHasher

    await add_alliance(directory, "Anmeldebündnis Vergessen", "vergessen@example.org")
    async with signed_in(directory, "vergessen@example.org") as http:
        await ask_for_link(http, "vergessen@example.org")  # a second link, never used
    runtime = directory.state.runtime
    data = DirectoryPersonalData(
        directory.state.directory, AddressHasher.from_settings(runtime.settings)
    )
    async with runtime.sessions() as session, session.begin():
        found = await data.find(session, "vergessen@example.org")
        erased = await data.erase(session, "vergessen@example.org")
    assert {entry["action"] for entry in found["sign_ins"]} >= {"link_sent", "signed_in"}
    assert erased["sign_in_links"] == 1
    assert erased["sign_in_audit"] >= 3
    async with runtime.sessions() as session:
        links = list(await session.scalars(select(SignInLink)))
        entries = list(await session.scalars(select(SignInAuditEntry)))
    assert all(link.email != "vergessen@example.org" for link in links)
    hashed = AddressHasher.from_settings(runtime.settings).hash("vergessen@example.org")
    assert all(entry.address_hash != hashed for entry in entries)
