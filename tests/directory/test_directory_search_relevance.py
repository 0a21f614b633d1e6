"""Search finds what people type, best matches first, and pages through them stably.

Labels of fields of action and partner types are searched; with a term the order is
a relevance tier (name or town equal to it, starting with it, containing it, a match
elsewhere), then name, then id: a keyset, so paging neither repeats nor skips, also
while alliances are added. On SQLite and PostgreSQL (the two text matches differ).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from tests.support.tokens import TEST_AUTH, bearer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ADMIN = bearer(Role.ADMIN)


@pytest_asyncio.fixture(loop_scope="session")
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The directory on a fresh database; Kafka unreachable (the outbox keeps the events)."""
    app = create_app(
        DirectorySettings(
            database_url=database_url,
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://directory") as http:
            yield http


async def create(client: httpx.AsyncClient, name: str, city: str, **fields: Any) -> str:
    body = {"name": name, "state": "BY", "postal_code": "80331", "city": city} | fields
    response = await client.post("/alliances", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def every_page(
    client: httpx.AsyncClient, *, limit: int, **params: Any
) -> list[tuple[str, str]]:
    """(name, id) of every item on all pages of a search, following next_cursor."""
    seen: list[tuple[str, str]] = []
    cursor = None
    while True:
        query = params | {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/alliances", params=query)
        assert response.status_code == 200, response.text
        seen += [(item["name"], item["id"]) for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def names(client: httpx.AsyncClient, q: str) -> list[str]:
    response = await client.get("/alliances", params={"q": q})
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_labels_of_fields_of_action_and_partner_types_are_searched(
    client: httpx.AsyncClient,
) -> None:
    await create(client, "Bündnis Kita", "Dachau", topics=["kinderbetreuung"])
    await create(
        client, "Bündnis Diakonie", "Erding",
        partners=[{"name": "Diakonie Erding", "type": "wohlfahrtsverband"}],
    )  # fmt: skip
    await create(client, "Bündnis Anders", "Freising", topics=["vereinbarkeit"])

    assert await names(client, "Kinderbetreuung") == ["Bündnis Kita"]
    assert await names(client, "kinderbetreuung dachau") == ["Bündnis Kita"]
    assert await names(client, "Wohlfahrtsverband") == ["Bündnis Diakonie"]


async def test_a_label_changed_by_an_edit_is_searched_by_its_new_value(
    client: httpx.AsyncClient,
) -> None:
    alliance_id = await create(client, "Bündnis Wechsel", "Dachau", topics=["vereinbarkeit"])
    edited = await client.patch(
        f"/alliances/{alliance_id}",
        json={"topics": ["kinderbetreuung"]},
        headers={**ADMIN, "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text

    assert await names(client, "Kinderbetreuung") == ["Bündnis Wechsel"]


async def test_muenchen_lists_muenchen_before_places_that_only_mention_it(
    client: httpx.AsyncClient,
) -> None:
    await create(
        client, "Bündnis für Familie Geretsried", "Geretsried", district="Landkreis München",
    )  # fmt: skip
    await create(client, "Lokales Bündnis für Familie München", "München")
    await create(client, "Münchener Familienbündnis", "Ottobrunn")
    await create(client, "Familienbündnis München-Land", "Haar")

    assert await names(client, "Muenchen") == [
        "Lokales Bündnis für Familie München",  # the town is the term
        "Münchener Familienbündnis",  # the name starts with it
        "Familienbündnis München-Land",  # the name contains it
        "Bündnis für Familie Geretsried",  # only its district mentions it
    ]


async def test_paging_through_a_term_neither_repeats_nor_skips(client: httpx.AsyncClient) -> None:
    for number, city in enumerate(["Augsburg", "Kempten", "Augsburg", "Landsberg", "Augsburg"]):
        await create(client, f"Bündnis {number % 2}", city)  # three "Bündnis 0" in Augsburg
        await create(client, f"Augsburger Bündnis {number}", "Friedberg")
        await create(client, f"Bündnis {number} Stadtbergen", "Stadtbergen", district="Augsburg")

    paged = await every_page(client, limit=2, q="Augsburg")

    assert [name for name, _id in paged] == [
        *["Bündnis 0"] * 3,  # the town is the term (the id orders these three)
        *(f"Augsburger Bündnis {n}" for n in range(5)),  # the name starts with it
        *(f"Bündnis {n} Stadtbergen" for n in range(5)),  # only the district has it
    ]
    assert len({alliance_id for _name, alliance_id in paged}) == 13
    ids_of_equal_names = [alliance_id for name, alliance_id in paged[:3]]
    assert ids_of_equal_names == sorted(ids_of_equal_names)


async def test_alliances_added_between_pages_cause_no_repeat(client: httpx.AsyncClient) -> None:
    for number in range(6):
        await create(client, f"Bündnis Rosenheim {number}", "Rosenheim")
    first = await client.get("/alliances", params={"q": "Rosenheim", "limit": 3})
    page = first.json()
    await create(client, "Bündnis Rosenheim 0a", "Rosenheim")  # sorts before the cursor
    await create(client, "Bündnis Rosenheim 9", "Rosenheim")  # sorts after it

    rest = await every_page(client, limit=3, q="Rosenheim", cursor=page["next_cursor"])
    seen = [item["name"] for item in page["items"]] + [name for name, _id in rest]

    assert seen == [f"Bündnis Rosenheim {n}" for n in [0, 1, 2, 3, 4, 5, 9]]


async def test_without_a_term_the_order_stays_by_name(client: httpx.AsyncClient) -> None:
    await create(client, "Zell", "München")
    await create(client, "Au", "Zell")

    response = await client.get("/alliances", params={"state": "BY"})

    assert [item["name"] for item in response.json()["items"]] == ["Au", "Zell"]
