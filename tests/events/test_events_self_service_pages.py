"""The self-service pages of the events service with session cookies (SQLite, in-process):
„Mein Bündnis – Aktionstag“ for coordinators and the Servicebüro's moderation queue.

Who may see which page (one matrix of every page route), CSRF refusal, the journey
enter → submit → publish → public programme, the rejection's reason for the
coordinator, the stale edit's conflict message, another alliance's action refused,
and the registrations as CSV. The same journey in Chromium:
tests/browser/test_browser_events_self_service.py.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.shared.auth import Role
from lobu.shared.spreadsheet_csv import BYTE_ORDER_MARK
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from tests.events.conftest import (
    ALLIANCE,
    COORDINATOR,
    OTHER_ALLIANCE,
    YEAR,
    action_body,
    create_edition,
    published_action,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Pages are rendering over the API's use cases: SQLite only (storage runs on both)."""
    return f"sqlite+aiosqlite:///{tmp_path}/self-service.db"


class Person:
    """A browser of one signed-in person: the session cookie and its CSRF value."""

    def __init__(self, http: httpx.AsyncClient, csrf: str) -> None:
        self.http = http
        self.csrf = csrf

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def post(self, path: str, **fields: str | list[str]) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.csrf, **fields})


@pytest_asyncio.fixture(loop_scope="session")
async def people(events_app: FastAPI) -> AsyncIterator[dict[str, Person]]:
    """Anonymous, the coordinator of ALLIANCE, of OTHER_ALLIANCE, and Servicebüro staff."""
    issuer = SessionIssuer(events_app.state.settings)
    transport = httpx.ASGITransport(app=events_app)
    clients: list[httpx.AsyncClient] = []
    result: dict[str, Person] = {}
    who: list[tuple[str, Role | None, str | None]] = [
        ("anonymous", None, None), ("coordinator", Role.ALLIANCE, ALLIANCE),
        ("other", Role.ALLIANCE, OTHER_ALLIANCE), ("staff", Role.ADMIN, None),
    ]  # fmt: skip
    for name, role, alliance in who:
        cookies, csrf = {}, ""
        if role is not None:
            token, session = issuer.issue(
                subject=f"person:{name}", role=role, email=f"{name}@example.org",
                alliance_id=alliance, lifetime=timedelta(minutes=30),
            )  # fmt: skip
            cookies, csrf = {SESSION_COOKIE: token}, session.csrf_token
        http = httpx.AsyncClient(transport=transport, base_url="http://events", cookies=cookies)
        clients.append(http)
        result[name] = Person(http, csrf)
    try:
        yield result
    finally:
        for http in clients:
            await http.aclose()


FORM = {
    "title": "Familienfest auf dem Marktplatz",
    "description": "Spiele und Musik für Groß und Klein",
    "starts_at": f"{YEAR}-05-15T11:00",
    "ends_at": f"{YEAR}-05-15T16:00",
    "ort": "vor_ort",
    "street": "Am Markt 1",
    "postal_code": "21335",
    "city": "Lüneburg",
    "latitude": "53,2464",
    "longitude": "10,4115",
    "accessibility": "Stufenloser Zugang",
    "capacity": "20",
    "registration_required": "ja",
    "target_groups": ["familien", "kinder"],
}


async def enter(person: Person, **changes: str | list[str]) -> str:
    """Enter an action through the page; its id."""
    answer = await person.post("/mein-buendnis/aktionen/neu", jahr=str(YEAR), **(FORM | changes))
    assert answer.status_code == 303, answer.text
    match = re.fullmatch(r"/mein-buendnis/aktionen/([0-9a-f-]+)\?hinweis=neu",
                         answer.headers["location"])  # fmt: skip
    assert match, answer.headers["location"]
    return match.group(1)


async def _routes(client: httpx.AsyncClient) -> dict[str, str]:
    """One action of each kind the pages point at."""
    await create_edition(client)
    public = await published_action(client, registration_required=True, capacity=5)
    eva = {"name": "Eva Roth", "email": "eva@example.org"}
    registered = await client.post(f"/actions/{public}/registrations", json=eva)
    assert registered.status_code == 201
    secret = registered.json()["cancel_url"].split("/registrations/")[1]
    return {"public": public, "secret": secret}


async def test_every_events_page_lets_in_exactly_whom_it_should(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    known = await _routes(client)
    action = known["public"]
    # page → (anonymous, coordinator of ALLIANCE, coordinator of OTHER_ALLIANCE, staff)
    matrix: list[tuple[str, str, tuple[int, int, int, int]]] = [
        ("GET", f"/aktionstag/{YEAR}", (200, 200, 200, 200)),
        ("GET", f"/aktionstag/{YEAR}/{action}", (200, 200, 200, 200)),
        ("GET", f"/registrations/{known['secret']}", (200, 200, 200, 200)),
        ("GET", f"/aktionstag/{YEAR}/statistik", (303, 403, 403, 200)),
        ("GET", "/mein-buendnis/aktionen", (303, 200, 200, 403)),
        ("GET", "/mein-buendnis/aktionen/neu", (303, 200, 200, 403)),
        ("POST", "/mein-buendnis/aktionen/neu", (303, 303, 303, 403)),
        ("GET", f"/mein-buendnis/aktionen/{action}", (303, 200, 404, 403)),
        ("POST", f"/mein-buendnis/aktionen/{action}", (303, 409, 404, 403)),
        ("POST", f"/mein-buendnis/aktionen/{action}/einreichen", (303, 409, 404, 403)),
        ("GET", f"/mein-buendnis/aktionen/{action}/anmeldungen", (303, 200, 404, 403)),
        ("GET", f"/mein-buendnis/aktionen/{action}/anmeldungen.csv", (303, 200, 404, 403)),
        ("GET", "/verwaltung/aktionen", (303, 403, 403, 200)),
        ("POST", f"/verwaltung/aktionen/{action}/veroeffentlichen", (303, 403, 403, 409)),
        ("POST", f"/verwaltung/aktionen/{action}/ablehnen", (303, 403, 403, 422)),
    ]
    order = ("anonymous", "coordinator", "other", "staff")
    for method, path, expected in matrix:
        for name, status in zip(order, expected, strict=True):
            person = people[name]
            if method == "GET":
                answer = await person.get(path)
            else:
                answer = await person.post(path, jahr=str(YEAR), **FORM)
            assert answer.status_code == status, (method, path, name, answer.text[:300])
            if status == 303 and name == "anonymous":
                assert "/anmelden" in answer.headers["location"], (path, answer.headers)
            if status == 403:
                assert "Kein Zugriff" in answer.text


async def test_a_form_without_its_csrf_value_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    await create_edition(client)
    coordinator, staff = people["coordinator"], people["staff"]
    refused = await coordinator.http.post(
        "/mein-buendnis/aktionen/neu", data={"jahr": str(YEAR), **FORM}
    )
    assert refused.status_code == 403
    assert "Formular abgelehnt" in refused.text
    wrong = await coordinator.http.post(
        "/mein-buendnis/aktionen/neu", data={"jahr": str(YEAR), **FORM, "csrf_token": "x"}
    )
    assert wrong.status_code == 403
    listing = await coordinator.get("/mein-buendnis/aktionen")
    assert "noch keine Aktion eingetragen" in listing.text
    action = await enter(coordinator)
    for path in (f"/mein-buendnis/aktionen/{action}/einreichen",):
        assert (await coordinator.http.post(path, data={})).status_code == 403
    assert "Entwurf" in (await coordinator.get("/mein-buendnis/aktionen")).text
    await coordinator.post(f"/mein-buendnis/aktionen/{action}/einreichen")
    publish = f"/verwaltung/aktionen/{action}/veroeffentlichen"
    assert (await staff.http.post(publish, data={})).status_code == 403
    private = await client.get(f"/actions/{action}/private", headers=COORDINATOR)
    assert private.json()["state"] == "submitted"


async def test_enter_submit_publish_and_the_action_is_in_the_public_programme(
    client: httpx.AsyncClient, people: dict[str, Person]
) -> None:
    await create_edition(client)
    coordinator, staff = people["coordinator"], people["staff"]
    empty = await coordinator.get("/mein-buendnis/aktionen/neu")
    assert empty.status_code == 200
    assert 'name="csrf_token"' in empty.text
    assert "Angemeldet als coordinator@example.org" in empty.text  # the shared session nav
    action = await enter(coordinator)
    draft = await coordinator.get(f"/mein-buendnis/aktionen/{action}?hinweis=neu")
    assert "als Entwurf gespeichert" in draft.text
    assert 'name="version" value="1"' in draft.text
    stored = (await client.get(f"/actions/{action}/private", headers=COORDINATOR)).json()
    assert stored["starts_at"] == f"{YEAR}-05-15T09:00:00Z"  # 11:00 in Berlin (summer time)
    assert stored["target_groups"] == ["familien", "kinder"]
    assert (stored["capacity"], stored["registration_required"]) == (20, True)
    assert (stored["latitude"], stored["street"], stored["accessibility"]) == (
        53.2464, "Am Markt 1", "Stufenloser Zugang",
    )  # fmt: skip
    submitted = await coordinator.post(f"/mein-buendnis/aktionen/{action}/einreichen")
    assert submitted.status_code == 303
    listing = await coordinator.get(submitted.headers["location"])
    assert "Die Aktion ist eingereicht" in listing.text
    assert "eingereicht" in listing.text
    assert (await client.get(f"/aktionstag/{YEAR}")).text.count(action) == 0

    queue = await staff.get("/verwaltung/aktionen")
    assert "Eine eingereichte Aktion wartet" in queue.text
    assert "Familienfest auf dem Marktplatz" in queue.text
    published = await staff.post(f"/verwaltung/aktionen/{action}/veroeffentlichen")
    assert published.status_code == 303
    after = await staff.get(published.headers["location"])
    assert "„Familienfest auf dem Marktplatz“ ist veröffentlicht" in after.text
    assert "0 eingereichte Aktionen warten" in after.text

    programme = await client.get(f"/aktionstag/{YEAR}")
    assert f"/aktionstag/{YEAR}/{action}" in programme.text
    mine = await coordinator.get("/mein-buendnis/aktionen")
    assert "veröffentlicht" in mine.text
    read_only = await coordinator.get(f"/mein-buendnis/aktionen/{action}")
    assert 'name="title"' not in read_only.text  # published: no form for the coordinator


async def test_the_coordinator_reads_why_the_action_was_rejected_and_submits_again(
    people: dict[str, Person], client: httpx.AsyncClient
) -> None:
    await create_edition(client)
    coordinator, staff = people["coordinator"], people["staff"]
    action = await enter(coordinator)
    await coordinator.post(f"/mein-buendnis/aktionen/{action}/einreichen")
    no_reason = await staff.post(f"/verwaltung/aktionen/{action}/ablehnen", reason="  ",
                                 jahr=str(YEAR))  # fmt: skip
    assert no_reason.status_code == 422
    assert f'id="reason-{action}-fehler"' in no_reason.text
    assert "warum die Aktion nicht veröffentlicht wird" in no_reason.text
    reason = "Bitte nennen Sie die genaue Adresse & den Treffpunkt <Rathaus>."
    rejected = await staff.post(f"/verwaltung/aktionen/{action}/ablehnen", reason=reason,
                                jahr=str(YEAR))  # fmt: skip
    assert rejected.status_code == 303
    listing = await coordinator.get("/mein-buendnis/aktionen")
    assert "abgelehnt" in listing.text
    assert "Begründung des Servicebüros:" in listing.text
    assert "genaue Adresse &amp; den Treffpunkt &lt;Rathaus&gt;." in listing.text
    page = await coordinator.get(f"/mein-buendnis/aktionen/{action}")
    assert "Das Servicebüro hat die Aktion abgelehnt" in page.text
    assert 'name="title"' in page.text  # rejected: may be changed again
    version = re.search(r'name="version" value="([0-9]+)"', page.text)
    assert version, "the form carries the version"
    changed = await coordinator.post(f"/mein-buendnis/aktionen/{action}", version=version[1],
                                     **(FORM | {"street": "Rathausplatz 2"}))  # fmt: skip
    assert changed.status_code == 303, changed.text
    again = await coordinator.post(f"/mein-buendnis/aktionen/{action}/einreichen")
    assert again.status_code == 303
    assert "Familienfest" in (await staff.get("/verwaltung/aktionen")).text


async def test_wrong_fields_come_back_in_german_next_to_the_field(
    people: dict[str, Person], client: httpx.AsyncClient
) -> None:
    await create_edition(client)
    coordinator = people["coordinator"]
    wrong = await coordinator.post(
        "/mein-buendnis/aktionen/neu", jahr=str(YEAR),
        **(FORM | {"title": "", "ends_at": f"{YEAR}-05-15T10:00", "postal_code": "2133",
                   "capacity": "viele", "latitude": "53,2", "longitude": ""}),
    )  # fmt: skip
    assert wrong.status_code == 422
    for name, words in (("title", "Titel"), ("ends_at", "nach dem Beginn"),
                        ("postal_code", "fünf Ziffern"), ("capacity", "ganze Zahl")):  # fmt: skip
        assert f'aria-describedby="{name}-fehler"' in wrong.text, name
        assert words in wrong.text, name
    assert 'value="Am Markt 1"' in wrong.text  # what was typed stays
    online = await coordinator.post("/mein-buendnis/aktionen/neu", jahr=str(YEAR),
                                    **(FORM | {"ort": "online", "online_url": ""}))  # fmt: skip
    assert online.status_code == 422
    assert "braucht den Link" in online.text


async def test_a_stale_edit_shows_the_conflict_message_and_keeps_the_input(
    people: dict[str, Person], client: httpx.AsyncClient
) -> None:
    await create_edition(client)
    coordinator = people["coordinator"]
    action = await enter(coordinator)
    first = await coordinator.post(f"/mein-buendnis/aktionen/{action}", version="1",
                                   **(FORM | {"title": "Familienfest am Sande"}))  # fmt: skip
    assert first.status_code == 303
    stale = await coordinator.post(f"/mein-buendnis/aktionen/{action}", version="1",
                                   **(FORM | {"title": "Familienfest im Park"}))  # fmt: skip
    assert stale.status_code == 409
    assert "Jemand anderes hat diese Aktion gespeichert" in stale.text
    assert 'value="Familienfest im Park"' in stale.text
    assert 'name="version" value="2"' in stale.text
    stored = (await client.get(f"/actions/{action}/private", headers=COORDINATOR)).json()
    assert stored["title"] == "Familienfest am Sande"


async def test_another_alliances_action_is_refused(
    people: dict[str, Person], client: httpx.AsyncClient
) -> None:
    await create_edition(client)
    action = await enter(people["coordinator"])
    other = people["other"]
    assert (await other.get(f"/mein-buendnis/aktionen/{action}")).status_code == 404
    changed = await other.post(f"/mein-buendnis/aktionen/{action}", version="1",
                               **(FORM | {"title": "Übernommen"}))  # fmt: skip
    assert changed.status_code == 404
    assert (await other.post(f"/mein-buendnis/aktionen/{action}/einreichen")).status_code == 404
    assert (await other.get(f"/mein-buendnis/aktionen/{action}/anmeldungen.csv")).status_code == 404
    assert "Familienfest" not in (await other.get("/mein-buendnis/aktionen")).text
    stored = (await client.get(f"/actions/{action}/private", headers=COORDINATOR)).json()
    assert (stored["title"], stored["state"]) == (FORM["title"], "draft")


async def test_the_registrations_of_an_own_action_as_a_page_and_as_csv(
    people: dict[str, Person], client: httpx.AsyncClient
) -> None:
    await create_edition(client)
    action = await published_action(client, registration_required=True, capacity=2)
    for name, email, seats in (("Eva Roth", "eva@example.org", 2),
                               ("=HYPERLINK(\"x\")", "ben@example.org", 1)):  # fmt: skip
        answer = await client.post(f"/actions/{action}/registrations",
                                   json={"name": name, "email": email, "seats": seats})  # fmt: skip
        assert answer.status_code == 201
    coordinator = people["coordinator"]
    page = await coordinator.get(f"/mein-buendnis/aktionen/{action}/anmeldungen")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "eva@example.org" in page.text
    assert "Warteliste" in page.text
    export = await coordinator.get(f"/mein-buendnis/aktionen/{action}/anmeldungen.csv")
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    lines = export.text.split("\r\n")
    assert (
        lines[0]
        == BYTE_ORDER_MARK + "Nr.;Name;E-Mail;Plätze;Status;Nachgerückt;Angemeldet am;Abgemeldet am"
    )
    assert lines[1].startswith("1;Eva Roth;eva@example.org;2;bestätigt;nein;")
    assert lines[2].startswith('2;"\'=HYPERLINK(""x"")";ben@example.org;1;Warteliste;')


async def test_the_coordinator_may_not_enter_for_another_alliance_by_the_api_either(
    client: httpx.AsyncClient,
) -> None:
    """The pages add nothing the API would not allow: the same use case refuses."""
    await create_edition(client)
    body = action_body(alliance_id=OTHER_ALLIANCE)
    answer = await client.post(f"/editions/{YEAR}/actions", json=body, headers=COORDINATOR)
    assert answer.status_code == 403
