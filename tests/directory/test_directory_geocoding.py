"""Coordinates from the gazetteer on create, edit and import; what has no place is said."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from lobu.directory.places import Gazetteer
from tests.directory.conftest import ADMIN
from tests.directory.test_directory_import_export import upload

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

GOSLAR = Gazetteer.shipped().locate("Goslar", state="NI")


async def create(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"name": f"Bündnis {fields.get('city', 'Goslar')}", "state": "NI",
            "postal_code": "38640", "city": "Goslar"} | fields  # fmt: skip
    response = await client.post("/alliances", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def patch(client: httpx.AsyncClient, alliance: dict[str, Any], **change: Any) -> Any:
    response = await client.patch(
        f"/alliances/{alliance['id']}", json=change,
        headers={**ADMIN, "If-Match": f'"{alliance["version"]}"'},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_new_alliance_without_coordinates_gets_its_towns_marked_approximate(
    client: httpx.AsyncClient,
) -> None:
    assert GOSLAR is not None
    alliance = await create(client)

    near = await client.get("/alliances", params={"near": "51.9,10.43", "radius_km": 25})

    assert (alliance["latitude"], alliance["longitude"]) == (GOSLAR.latitude, GOSLAR.longitude)
    assert alliance["coordinates_approximate"] is True
    assert [hit["id"] for hit in near.json()["items"]] == [alliance["id"]]


async def test_given_coordinates_are_never_overwritten(client: httpx.AsyncClient) -> None:
    given = await create(client, latitude=51.9059, longitude=10.4289)

    moved = await patch(client, given, city="Bad Harzburg")

    assert given["coordinates_approximate"] is False
    assert (moved["latitude"], moved["longitude"]) == (51.9059, 10.4289)
    assert moved["coordinates_approximate"] is False


async def test_approximate_coordinates_follow_the_town_and_give_way_to_given_ones(
    client: httpx.AsyncClient,
) -> None:
    alliance = await create(client)
    harzburg = Gazetteer.shipped().locate("Bad Harzburg", state="NI")
    assert harzburg is not None

    moved = await patch(client, alliance, city="Bad Harzburg")
    given = await patch(client, moved, latitude=51.88, longitude=10.56)

    assert (moved["latitude"], moved["longitude"]) == (harzburg.latitude, harzburg.longitude)
    assert moved["coordinates_approximate"] is True
    assert (given["latitude"], given["coordinates_approximate"]) == (51.88, False)


async def test_an_unknown_or_ambiguous_town_gets_no_coordinates_and_geojson_says_so(
    client: httpx.AsyncClient,
) -> None:
    unknown = await create(client, city="Atlantis")
    ambiguous = await create(client, city="Neustadt", state="BY", postal_code="96465")
    await create(client)

    collection = json.loads((await client.get("/alliances/export.geojson")).text)

    assert (unknown["latitude"], ambiguous["latitude"]) == (None, None)
    assert {item["id"] for item in collection["unlocated"]} == {unknown["id"], ambiguous["id"]}
    (feature,) = collection["features"]
    assert feature["properties"]["coordinates_approximate"] is True


async def test_an_import_fills_in_coordinates_and_importing_its_export_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    content = (
        "\ufeffname;land;plz;ort;breitengrad;laengengrad\r\nBündnis Celle;NI;29221;Celle;;\r\n"
    )

    first = await upload(client, content.encode(), dry_run=False)
    export = await client.get("/alliances/export.csv", headers=ADMIN)
    again = await upload(client, export.content, dry_run=False)

    assert first.json()["created"] == 1
    (hit,) = (await client.get("/alliances")).json()["items"]
    assert hit["coordinates_approximate"] is True
    assert hit["latitude"] is not None
    assert (again.json()["unchanged"], again.json()["errors"]) == (1, [])
