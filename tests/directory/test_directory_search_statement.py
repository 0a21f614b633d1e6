"""The search's one-statement page prints exactly what the AlliancePage model would.

`GET /alliances` returns JSON built from the database's values without building and
validating models (search_statement.py); here every shape of hit (children, awards,
no coordinates, social media, a distance) is validated through AlliancePage and must
print the same, on both backends, for text, filter, distance and a second page; and
the HTML pages' `page()` holds the same values.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lobu.directory.schemas import AlliancePage
from lobu.directory.search import AllianceQuery, Near
from tests.directory.conftest import ADMIN

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MARK = "Zeisigmoor"  # a word no other test uses: the searches see only these alliances


async def seed(client: httpx.AsyncClient) -> None:
    bodies: list[dict[str, Any]] = [
        {
            "name": f"Lokales Bündnis für Familie {MARK} Nord", "state": "NI",
            "postal_code": "30159", "city": "Hannover", "latitude": 52.3759,
            "longitude": 9.732, "founded_on": "2009-05-14", "staffing": "mixed",
            "website": "https://example.org/nord", "topics": ["vereinbarkeit", "kinderbetreuung"],
            "partners": [
                {"name": "Stadt Hannover", "type": "kommune"},
                {"name": "AWO Ortsverein", "type": "wohlfahrtsverband"},
            ],
            "awards": [
                {"award": "ausgezeichnet-in-die-zukunft", "year": 2021},
                {"award": "ausgezeichnet-in-die-zukunft", "year": 2019},
            ],
            "social_media": [{"platform": "instagram", "url": "https://instagram.com/nord"}],
            "coordinating_organisation": "Familienbüro",
        },
        {"name": f"Bündnis {MARK} Süd", "state": "BY", "postal_code": "80331",
         "city": "München", "latitude": 48.1374, "longitude": 11.5755},
        {"name": f"Familienbündnis {MARK} ohne Ort", "state": "NI", "postal_code": "38640",
         "city": "Goslar", "topics": ["generationen"]},
    ]  # fmt: skip
    for body in bodies:
        response = await client.post("/alliances", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text


def as_the_model_prints_it(body: dict[str, Any]) -> dict[str, Any]:
    return dict(AlliancePage.model_validate(body).model_dump(mode="json"))


async def test_every_shape_of_page_is_what_alliance_page_prints(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    await seed(client)
    searches: list[dict[str, Any]] = [
        {"q": MARK},
        {"q": MARK, "state": "NI"},
        {"q": MARK, "topic": "generationen"},
        {"q": MARK, "near": "52.3759,9.732", "radius_km": 800},
        {"q": MARK, "limit": 1},
    ]
    for params in searches:
        response = await client.get("/alliances", params=params)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert body == as_the_model_prints_it(body), params
        assert body["items"], params
    first = (await client.get("/alliances", params={"q": MARK, "limit": 1})).json()
    second = (
        await client.get(
            "/alliances", params={"q": MARK, "limit": 1, "cursor": first["next_cursor"]}
        )
    ).json()
    assert second == as_the_model_prints_it(second)
    assert second["items"][0]["id"] != first["items"][0]["id"]

    nord = (await client.get("/alliances", params={"q": f"{MARK} Nord"})).json()["items"][0]
    assert nord["topics"] == ["vereinbarkeit", "kinderbetreuung"]  # in their order
    assert [partner["name"] for partner in nord["partners"]] == ["Stadt Hannover", "AWO Ortsverein"]
    assert [award["year"] for award in nord["awards"]] == [2019, 2021]
    assert nord["coordinates_approximate"] is False
    assert nord["created_at"].endswith("Z")  # UTC, as before
    assert "contacts" not in nord

    # The HTML pages' page() holds the same values as the JSON.
    search = directory_app.state.search
    for query in (
        AllianceQuery(text=MARK),
        AllianceQuery(text=MARK, near=Near(52.3759, 9.732, 800)),
    ):
        page = await search.page(query, cursor=None, limit=20)
        printed = json.loads(await search.page_json(query, cursor=None, limit=20))
        assert page.model_dump(mode="json") == printed


async def test_each_hit_carries_its_own_children_when_a_page_holds_several(
    client: httpx.AsyncClient,
) -> None:
    """On SQLite the child sub-select once took the topics of every hit on the page."""
    mark = "Quendelwiese"
    bodies = [
        {"name": f"Bündnis {mark} Eins", "state": "NI", "postal_code": "30159",
         "city": "Hannover", "topics": ["vereinbarkeit"],
         "partners": [{"name": "Stadt Hannover", "type": "kommune"}]},
        {"name": f"Bündnis {mark} Zwei", "state": "BY", "postal_code": "80331",
         "city": "München", "topics": ["kinderarmut", "generationen"],
         "awards": [{"award": "ausgezeichnet-in-die-zukunft", "year": 2021}]},
    ]  # fmt: skip
    for body in bodies:
        response = await client.post("/alliances", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
    page = (await client.get("/alliances", params={"q": mark})).json()
    children = {
        hit["name"]: (hit["topics"], hit["partners"], hit["awards"]) for hit in page["items"]
    }
    assert children == {
        f"Bündnis {mark} Eins": (
            ["vereinbarkeit"], [{"name": "Stadt Hannover", "type": "kommune"}], []
        ),
        f"Bündnis {mark} Zwei": (
            ["kinderarmut", "generationen"], [],
            [{"award": "ausgezeichnet-in-die-zukunft", "year": 2021}],
        ),
    }  # fmt: skip
