"""The public programme: filters, German-aware words, distance order, cursor paging, and
the same selection as GeoJSON and as iCalendar, both parsed back."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import icalendar
import pytest

from tests.events.conftest import (
    ADMIN,
    COORDINATOR,
    OTHER_ALLIANCE,
    OTHER_COORDINATOR,
    YEAR,
    action_body,
    create_edition,
    published_action,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

LUENEBURG = (53.2464, 10.4115)
HAMBURG = (53.5511, 9.9937)
GOSLAR = (51.9059, 10.4289)


async def _published_of_other(client: httpx.AsyncClient, **changes: Any) -> str:
    response = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(**changes), headers=OTHER_COORDINATOR
    )
    assert response.status_code == 201, response.text
    action_id = str(response.json()["id"])
    await client.post(f"/actions/{action_id}/submit", headers=OTHER_COORDINATOR)
    await client.post(f"/actions/{action_id}/publish", headers=ADMIN)
    return action_id


async def _programme(client: httpx.AsyncClient) -> dict[str, str]:
    await create_edition(client)
    ids = {
        "fest": await published_action(client, title="Familienfest an der Ilmenau"),
        "lesung": await published_action(
            client, title="Vorlesen für Kinder", description="Märchen und Geschichten",
            city="Hamburg", latitude=HAMBURG[0], longitude=HAMBURG[1],
            target_groups=["kinder"], starts_at="2027-05-16T10:00:00+02:00",
            ends_at="2027-05-16T11:00:00+02:00",
        ),
        "goslar": await _published_of_other(
            client, title="Väterfrühstück in der Straße der Begegnung", city="Goslar",
            latitude=GOSLAR[0], longitude=GOSLAR[1], target_groups=["eltern"],
            starts_at="2027-05-15T09:00:00+02:00", ends_at="2027-05-15T10:30:00+02:00",
        ),
        "online": await published_action(
            client, title="Online-Sprechstunde", city=None, latitude=None, longitude=None,
            online=True, online_url="https://meet.example.org/sprechstunde",
        ),
    }  # fmt: skip
    draft = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(title="Entwurf"), headers=COORDINATOR
    )
    ids["draft"] = str(draft.json()["id"])
    return ids


def _titles(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return [item["title"] for item in page.json()["items"]]


async def test_the_programme_lists_published_actions_by_start(client: httpx.AsyncClient) -> None:
    await _programme(client)

    titles = _titles(await client.get(f"/editions/{YEAR}/actions"))

    assert titles[0] == "Väterfrühstück in der Straße der Begegnung"  # 09:00
    assert set(titles[1:3]) == {"Familienfest an der Ilmenau", "Online-Sprechstunde"}  # 11:00
    assert titles[3] == "Vorlesen für Kinder"  # the next day


async def test_words_match_with_or_without_umlauts_and_by_their_beginning(
    client: httpx.AsyncClient,
) -> None:
    await _programme(client)
    url = f"/editions/{YEAR}/actions"

    assert _titles(await client.get(url, params={"q": "vaeterfruehstueck"})) == [
        "Väterfrühstück in der Straße der Begegnung"
    ]
    assert _titles(await client.get(url, params={"q": "STRASSE väter"})) == [
        "Väterfrühstück in der Straße der Begegnung"
    ]
    assert _titles(await client.get(url, params={"q": "maerch"})) == ["Vorlesen für Kinder"]
    assert _titles(await client.get(url, params={"q": "goslar"})) == [
        "Väterfrühstück in der Straße der Begegnung"  # the alliance's name
    ]
    assert _titles(await client.get(url, params={"q": "ilmenau fest"})) == []  # "fest" ≠ start


async def test_filters_by_day_target_group_land_and_alliance(client: httpx.AsyncClient) -> None:
    await _programme(client)
    url = f"/editions/{YEAR}/actions"

    assert _titles(await client.get(url, params={"day": "2027-05-16"})) == ["Vorlesen für Kinder"]
    assert _titles(await client.get(url, params={"target_group": "eltern"})) == [
        "Väterfrühstück in der Straße der Begegnung"
    ]
    assert len(_titles(await client.get(url, params={"land": "NI"}))) == 4
    assert _titles(await client.get(url, params={"land": "BY"})) == []
    assert _titles(await client.get(url, params={"alliance_id": OTHER_ALLIANCE})) == [
        "Väterfrühstück in der Straße der Begegnung"
    ]
    window = {"from": "2027-05-15T10:00:00+02:00", "until": "2027-05-15T12:00:00+02:00"}
    assert set(_titles(await client.get(url, params=window))) == {
        "Familienfest an der Ilmenau", "Online-Sprechstunde"
    }  # fmt: skip


async def test_near_a_place_sorts_by_distance_within_the_radius(client: httpx.AsyncClient) -> None:
    await _programme(client)
    url = f"/editions/{YEAR}/actions"

    near = await client.get(url, params={"near": f"{HAMBURG[0]},{HAMBURG[1]}", "radius_km": 60})
    wide = await client.get(url, params={"near": f"{GOSLAR[0]},{GOSLAR[1]}", "radius_km": 300})
    bad = await client.get(url, params={"near": "north"})
    radius_alone = await client.get(url, params={"radius_km": 5})

    assert _titles(near) == ["Vorlesen für Kinder", "Familienfest an der Ilmenau"]
    distances = [item["distance_km"] for item in near.json()["items"]]
    assert distances[0] == pytest.approx(0, abs=0.01)
    assert distances[1] == pytest.approx(41, abs=3)
    assert _titles(wide)[0] == "Väterfrühstück in der Straße der Begegnung"
    assert bad.status_code == radius_alone.status_code == 422


async def test_pages_follow_one_another_without_gaps_or_repeats(
    client: httpx.AsyncClient,
) -> None:
    await _programme(client)
    url = f"/editions/{YEAR}/actions"
    for params in ({}, {"near": f"{GOSLAR[0]},{GOSLAR[1]}", "radius_km": 400}):
        everything = _titles(await client.get(url, params=params))
        seen: list[str] = []
        cursor = None
        while True:
            paging: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
            page = await client.get(url, params={**params, **paging})
            seen += _titles(page)
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        assert seen == everything
    assert (await client.get(url, params={"cursor": "bm9wZQ"})).status_code == 422


async def test_unpublished_states_are_for_editors_only(client: httpx.AsyncClient) -> None:
    await _programme(client)
    url = f"/editions/{YEAR}/actions"

    anonymous = await client.get(url, params={"state": "draft"})
    own = await client.get(url, params={"state": "draft"}, headers=COORDINATOR)
    other = await client.get(url, params={"state": "draft"}, headers=OTHER_COORDINATOR)
    admin = await client.get(url, params={"state": "draft"}, headers=ADMIN)

    assert anonymous.status_code == 403
    assert _titles(own) == ["Entwurf"]
    assert _titles(other) == []
    assert _titles(admin) == ["Entwurf"]


async def test_geojson_has_every_published_action_with_coordinates(
    client: httpx.AsyncClient,
) -> None:
    ids = await _programme(client)

    response = await client.get(f"/editions/{YEAR}/actions.geojson")

    assert response.headers["content-type"].startswith("application/geo+json")
    collection = json.loads(response.text)
    assert collection["type"] == "FeatureCollection"
    by_id = {feature["id"]: feature for feature in collection["features"]}
    assert set(by_id) == {ids["fest"], ids["lesung"], ids["goslar"]}  # online: no point
    goslar = by_id[ids["goslar"]]
    assert goslar["geometry"] == {"type": "Point", "coordinates": [GOSLAR[1], GOSLAR[0]]}
    assert goslar["properties"]["alliance_name"] == "Lokales Bündnis für Familie Goslar"


async def test_the_icalendar_feed_parses_back_with_uid_dtstamp_and_berlin_time(
    client: httpx.AsyncClient,
) -> None:
    ids = await _programme(client)
    await client.post(f"/actions/{ids['lesung']}/cancel", headers=COORDINATOR)

    response = await client.get(f"/editions/{YEAR}/programme.ics")

    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"]
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    events = {str(event["UID"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {f"{ids[k]}@lobu.lokale-buendnisse-fuer-familie.de"
                           for k in ("fest", "lesung", "goslar", "online")}  # fmt: skip
    fest = events[f"{ids['fest']}@lobu.lokale-buendnisse-fuer-familie.de"]
    start = fest.decoded("DTSTART")
    assert start == dt.datetime(2027, 5, 15, 11, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert fest["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert fest.decoded("DTSTAMP").tzinfo is not None
    assert str(fest["SUMMARY"]) == "Familienfest an der Ilmenau"
    assert fest["GEO"].latitude == pytest.approx(53.2464)
    cancelled = events[f"{ids['lesung']}@lobu.lokale-buendnisse-fuer-familie.de"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert "draft" not in response.text.lower()


async def test_an_alliance_has_its_own_feed(client: httpx.AsyncClient) -> None:
    ids = await _programme(client)

    response = await client.get(f"/editions/{YEAR}/alliances/{OTHER_ALLIANCE}/programme.ics")

    calendar = icalendar.Calendar.from_ical(response.content)
    uids = [str(event["UID"]) for event in calendar.walk("VEVENT")]
    assert uids == [f"{ids['goslar']}@lobu.lokale-buendnisse-fuer-familie.de"]
    assert "Goslar" in str(calendar["X-WR-CALNAME"])


async def test_an_unknown_edition_is_a_404(client: httpx.AsyncClient) -> None:
    for path in ("/actions", "/actions.geojson", "/programme.ics"):
        assert (await client.get(f"/editions/2031{path}")).status_code == 404


async def test_an_alliance_feed_for_an_id_outside_latin_1_is_no_server_error(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)

    response = await client.get(f"/editions/{YEAR}/alliances/bündnis-☀/programme.ics")

    assert response.status_code == 200
    assert (
        response.headers["content-disposition"] == 'inline; filename="aktionstag-2027-bndnis-.ics"'
    )
