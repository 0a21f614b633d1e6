"""The programme and registration pages in-process (SQLite): filters with German messages
next to the field, near a place through the shared gazetteer, the action's page, the
registration form (CSRF, confirmed, waiting list) and cancelling by the secret link.
The same pages in a real browser: tests/browser/test_browser_events_pages.py."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from lobu.events.registration_form import CSRF_COOKIE
from tests.events.conftest import ADMIN, YEAR, create_edition, published_action

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Pages are rendering, not storage: SQLite only (the storage tests run on both)."""
    return f"sqlite+aiosqlite:///{tmp_path}/pages.db"


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, "the form has no CSRF field"
    return match.group(1)


async def post_form(client: httpx.AsyncClient, action_id: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/aktionstag/{YEAR}/{action_id}")
    assert page.status_code == 200, page.text
    body = {"csrf": csrf_of(page.text), **fields}
    return await client.post(f"/aktionstag/{YEAR}/{action_id}", data=body)


async def test_programme_lists_published_actions_and_filters_by_land_group_and_time(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    morning = await published_action(client, title="Frühstück für Familien",
                                     starts_at="2027-05-15T09:00:00+02:00",
                                     target_groups=["familien"])  # fmt: skip
    afternoon = await published_action(client, title="Großeltern-Café",
                                       starts_at="2027-05-15T15:00:00+02:00",
                                       ends_at="2027-05-15T17:00:00+02:00",
                                       target_groups=["grosseltern"])  # fmt: skip
    page = await client.get(f"/aktionstag/{YEAR}")
    assert page.status_code == 200
    assert "2 Aktionen" in page.text
    assert "Samstag, 15. Mai 2027, 09:00 bis 16:00 Uhr" in page.text
    assert f'href="/editions/{YEAR}/programme.ics"' in page.text
    assert f"/editions/{YEAR}/actions.geojson" in page.text
    only = await client.get(f"/aktionstag/{YEAR}", params={"zielgruppe": "grosseltern"})
    assert afternoon in only.text
    assert morning not in only.text
    later = await client.get(f"/aktionstag/{YEAR}", params={"tag": f"{YEAR}-05-15", "ab": "12:00"})
    assert afternoon in later.text
    assert morning not in later.text
    # the edition's day is taken when only a time is given
    early = await client.get(f"/aktionstag/{YEAR}", params={"bis": "10:00"})
    assert morning in early.text
    assert afternoon not in early.text
    elsewhere = await client.get(f"/aktionstag/{YEAR}", params={"land": "BY"})
    assert "0 Aktionen" in elsewhere.text
    assert "Keine Aktionen gefunden" in elsewhere.text


async def test_wrong_filters_come_back_with_a_german_message_next_to_the_field(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    page = await client.get(
        f"/aktionstag/{YEAR}", params={"land": "XX", "ab": "25:00", "tag": "2026-05-15"}
    )
    assert page.status_code == 422
    assert 'id="land-fehler"' in page.text
    assert "Dieses Land gibt es nicht" in page.text
    assert "Bitte eine Uhrzeit wie 14:30 angeben." in page.text
    assert f"Bitte ein Datum im Jahr {YEAR} angeben" in page.text
    assert 'value="25:00"' in page.text  # kept as typed
    assert (await client.get("/aktionstag/2031")).status_code == 404


async def test_near_a_place_sorts_by_distance_and_asks_which_namesake(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    near = await published_action(client, title="Spielfest Lüneburg")
    far = await published_action(
        client, title="Spielfest München", city="München", latitude=48.137, longitude=11.575
    )
    page = await client.get(f"/aktionstag/{YEAR}", params={"ort": "Lüneburg", "umkreis": "25"})
    assert page.status_code == 200
    assert near in page.text
    assert far not in page.text
    assert "im Umkreis von 25 km um Lüneburg" in page.text
    assert "km entfernt" in page.text
    # the shared map of Germany, inline, with a dot that links to the action
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="germany-map"' in page.text
    assert f'<a href="/aktionstag/{YEAR}/{near}" aria-label="Spielfest Lüneburg (Lüneburg)">' in (
        page.text
    )
    assert f'href="/aktionstag/{YEAR}/{far}"' not in page.text
    namesakes = await client.get(f"/aktionstag/{YEAR}", params={"ort": "Neustadt"})
    assert "Mehrere Orte heißen „Neustadt“" in namesakes.text
    assert "ort=Neustadt" in namesakes.text  # each namesake a link with its Land
    unknown = await client.get(f"/aktionstag/{YEAR}", params={"ort": "Xyzzyhausen"})
    assert "Den Ort „Xyzzyhausen“ kennen wir nicht" in unknown.text


async def test_the_action_page_shows_the_details_and_other_years_have_none(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    action_id = await published_action(client, accessibility="Rollstuhlgerecht, mit Rampe")
    page = await client.get(f"/aktionstag/{YEAR}/{action_id}")
    assert page.status_code == 200
    assert "Familienfest auf dem Marktplatz" in page.text
    assert "Rollstuhlgerecht" in page.text
    assert "Familien, Kinder" in page.text
    assert "Lokales Bündnis für Familie Lüneburg" in page.text
    assert "keine Anmeldung nötig" in page.text
    assert (await client.get(f"/aktionstag/2026/{action_id}")).status_code == 404
    assert (await client.get(f"/aktionstag/{YEAR}/no-such-action")).status_code == 404


async def test_registering_by_the_form_confirms_then_waitlists_and_cancelling_promotes(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=3, registration_required=True)
    confirmed = await post_form(client, action_id, name="Anna Schmidt",
                                email="anna@example.org", seats="3")  # fmt: skip
    assert confirmed.status_code == 303, confirmed.text
    anna = confirmed.headers["location"]
    assert anna.startswith("/registrations/")
    assert anna.endswith("?neu=1")
    page = await client.get(anna, headers={"Accept": "text/html"})
    assert "Ihre Anmeldung ist bestätigt" in page.text
    assert "3 Plätze" in page.text
    assert page.headers["cache-control"] == "no-store"
    full = await client.get(f"/aktionstag/{YEAR}/{action_id}")
    assert "Alle Plätze sind vergeben" in full.text
    assert "Warteliste" in full.text
    waiting = await post_form(client, action_id, name="Ben Öztürk",
                              email="ben@example.org", seats="2")  # fmt: skip
    ben = waiting.headers["location"]
    page = await client.get(ben, headers={"Accept": "text/html"})
    assert "Sie stehen auf der Warteliste" in page.text
    assert "rücken Sie automatisch nach" in page.text
    # the API still answers JSON on the same link
    assert (await client.get(ben.split("?")[0])).json()["status"] == "waitlisted"
    cancelled = await client.post(anna.split("?")[0])
    assert "Abmeldung bestätigt" in cancelled.text
    page = await client.get(ben.split("?")[0], headers={"Accept": "text/html"})
    assert "Ihre Anmeldung ist bestätigt" in page.text
    again = await client.post(anna.split("?")[0])  # twice is harmless
    assert again.status_code == 200
    assert (await client.post("/registrations/x/wrong")).status_code == 404


async def test_the_form_keeps_values_and_says_what_is_wrong_and_refuses_foreign_posts(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=5, registration_required=True)
    wrong = await post_form(client, action_id, name="", email="anna@", seats="99")
    assert wrong.status_code == 422
    assert "Bitte geben Sie Ihren Namen an." in wrong.text
    assert "Diese E-Mail-Adresse scheint nicht zu stimmen" in wrong.text
    assert "Bitte eine Zahl von 1 bis 10 Plätzen angeben." in wrong.text
    assert 'value="anna@"' in wrong.text
    # A post without this browser's cookie and token (another site's form) registers nobody.
    client.cookies.delete(CSRF_COOKIE, path="/aktionstag")
    eve = {"name": "Eve", "email": "eve@example.org", "seats": "1"}
    foreign = await client.post(f"/aktionstag/{YEAR}/{action_id}", data=eve)
    assert foreign.status_code == 400
    assert "noch einmal" in foreign.text
    listed = await client.get(f"/actions/{action_id}/registrations", headers=ADMIN)
    assert listed.json()["items"] == []
