"""Search: German spellings, filters, distance order, facets, pages that neither repeat nor skip."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.directory.conftest import ADMIN

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

# Real coordinates (GeoNames).
HANNOVER = (52.3759, 9.7320)
CELLE = (52.6226, 10.0806)
HILDESHEIM = (52.1523, 9.9510)
LUENEBURG = (53.2509, 10.4142)
MUENCHEN = (48.1374, 11.5755)
NEAR_HANNOVER = f"{HANNOVER[0]},{HANNOVER[1]}"


async def create(client: httpx.AsyncClient, name: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name, "state": "NI", "postal_code": "30159", "city": "Hannover",
    } | fields  # fmt: skip
    if "at" in body:
        body["latitude"], body["longitude"] = body.pop("at")
    response = await client.post("/alliances", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/alliances", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


@pytest.mark.parametrize(
    "query", ["Lüneburg", "Lueneburg", "LÜNEBURG", "lüneb", "Familie Lüneburg"]
)
async def test_umlauts_match_however_they_are_typed(client: httpx.AsyncClient, query: str) -> None:
    await create(client, "Lokales Bündnis für Familie Lüneburg", city="Lüneburg")
    await create(client, "Lokales Bündnis für Familie Celle", city="Celle")

    assert names(await search(client, q=query)) == ["Lokales Bündnis für Familie Lüneburg"]


async def test_sharp_s_and_ss_are_the_same(client: httpx.AsyncClient) -> None:
    await create(client, "Familienbündnis Großenhain", city="Großenhain", state="SN")
    assert names(await search(client, q="Grossenhain")) == ["Familienbündnis Großenhain"]
    assert names(await search(client, q="großenhain")) == ["Familienbündnis Großenhain"]


async def test_text_search_looks_at_places_coordination_and_partner_names(
    client: httpx.AsyncClient,
) -> None:
    await create(
        client, "Bündnis A", municipality="Wedemark", coordinating_organisation="Familienbüro Nord",
        partners=[{"name": "Caritasverband Hannover", "type": "wohlfahrtsverband"}],
    )  # fmt: skip
    await create(client, "Bündnis B")

    assert names(await search(client, q="caritas")) == ["Bündnis A"]
    assert names(await search(client, q="Wedemark")) == ["Bündnis A"]
    assert names(await search(client, q="Familienbüro")) == ["Bündnis A"]
    assert names(await search(client, q="caritas wedemark")) == ["Bündnis A"]  # all words
    assert names(await search(client, q="caritas celle")) == []


async def test_filters_combine(client: httpx.AsyncClient) -> None:
    await create(
        client, "Sachsen aktiv", state="SN", topics=["kinderarmut"],
        partners=[{"name": "Jobcenter Dresden", "type": "arbeitsagentur-jobcenter"}],
        awards=[{"award": "ausgezeichnet-in-die-zukunft", "year": 2019}],
    )  # fmt: skip
    await create(client, "Sachsen ruhend", state="SN", topics=["kinderarmut"], status="dormant")
    await create(client, "Niedersachsen", topics=["kinderbetreuung"])

    assert names(await search(client, state="SN")) == ["Sachsen aktiv", "Sachsen ruhend"]
    assert names(await search(client, state="SN", status="dormant")) == ["Sachsen ruhend"]
    assert names(await search(client, topic="kinderarmut", status="active")) == ["Sachsen aktiv"]
    assert names(await search(client, partner_type="arbeitsagentur-jobcenter")) == ["Sachsen aktiv"]
    assert names(await search(client, award="ausgezeichnet-in-die-zukunft")) == ["Sachsen aktiv"]
    assert names(await search(client, topic="kinderbetreuung", state="SN")) == []


async def test_filters_take_german_labels_as_the_api_does(client: httpx.AsyncClient) -> None:
    await create(client, "Sachsen mit Label", state="SN", topics=["kinderarmut"], status="dormant")
    await create(client, "Niedersachsen mit Label")

    assert names(await search(client, state="Sachsen")) == ["Sachsen mit Label"]
    assert names(await search(client, state="sachsen", status="ruhend")) == ["Sachsen mit Label"]
    assert names(await search(client, topic="Kinderarmut")) == ["Sachsen mit Label"]
    response = await client.get("/alliances", params={"state": "Atlantis"})
    assert response.status_code == 422


async def test_facets_count_the_whole_result_per_land_and_field_of_action(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "A", state="SN", topics=["kinderarmut", "vereinbarkeit"])
    await create(client, "B", state="SN", topics=["kinderarmut"])
    await create(client, "C", state="BY", topics=["vereinbarkeit"])

    page = await search(client, limit=1)
    assert page["total"] == 3
    assert len(page["items"]) == 1
    assert page["facets"]["state"] == {"BY": 1, "SN": 2}
    assert page["facets"]["topic"] == {"kinderarmut": 2, "vereinbarkeit": 2}

    narrowed = await search(client, topic="kinderarmut")
    assert narrowed["facets"]["state"] == {"SN": 2}
    assert narrowed["facets"]["topic"] == {"kinderarmut": 2, "vereinbarkeit": 1}


async def test_near_a_place_sorts_by_distance_and_leaves_out_what_is_too_far(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "Celle", at=CELLE)
    await create(client, "Hildesheim", at=HILDESHEIM)
    await create(client, "Lüneburg", at=LUENEBURG)
    await create(client, "München", at=MUENCHEN, state="BY")
    # A town the gazetteer does not know: the alliance stays without a place.
    await create(client, "Ohne Koordinaten", city="Nirgendwo am See")

    page = await search(client, near=NEAR_HANNOVER, radius_km=50)

    assert names(page) == ["Hildesheim", "Celle"]
    distances = [item["distance_km"] for item in page["items"]]
    assert distances == sorted(distances)
    assert 25 < distances[0] < 30  # Hannover–Hildesheim, about 27 km
    assert 35 < distances[1] < 40  # Hannover–Celle, about 37 km
    wider = await search(client, near=NEAR_HANNOVER, radius_km=150)
    assert names(wider) == ["Hildesheim", "Celle", "Lüneburg"]


async def test_distance_pages_neither_repeat_nor_skip(client: httpx.AsyncClient) -> None:
    for step in range(9):
        await create(client, f"Ring {step}", at=(HANNOVER[0] + step * 0.05, HANNOVER[1]))
    # Two at the same distance: the id breaks the tie.
    await create(client, "Zwilling A", at=(HANNOVER[0] + 0.2, HANNOVER[1]))

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"near": NEAR_HANNOVER, "radius_km": 100, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = await search(client, **params)
        seen += names(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 10


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"near": "52.37"}, "near"),
        ({"near": "abc,def"}, "near"),
        ({"near": "95,10"}, "near"),
        ({"radius_km": 10}, "radius_km"),
        ({"near": "52.3,9.7", "radius_km": 0}, "radius_km"),
        ({"topic": "Raumfahrt"}, "topic"),
        ({"partner_type": "firma"}, "partner_type"),
        ({"limit": 0}, "limit"),
    ],
)
async def test_a_bad_search_parameter_is_422_naming_it(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/alliances", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text
