"""The topic codes on each alliance's row follow its fields of action (migration 0011).

The search counts its topic facet and prints each hit's topics from
`alliances.topic_codes`, which triggers on `alliance_topics` keep; here every way the
fields of action change (create, replace by PATCH, clear, delete the alliance) shows in
the hits and the facet at once, on both backends.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.directory.conftest import ADMIN

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

MARK = "Wiesenknopfau"  # a word no other test uses: the searches see only these alliances


async def found(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/alliances", params={"q": MARK})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_hits_and_topic_facet_follow_every_change_of_the_fields_of_action(
    client: httpx.AsyncClient,
) -> None:
    created = []
    for name, topics in (("Eins", ["vereinbarkeit", "generationen"]), ("Zwei", ["generationen"])):
        response = await client.post(
            "/alliances",
            json={"name": f"Bündnis {MARK} {name}", "state": "NI", "postal_code": "30159",
                  "city": "Hannover", "topics": topics},
            headers=ADMIN,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        created.append(response.json())
    page = await found(client)
    assert [hit["topics"] for hit in page["items"]] == [
        ["vereinbarkeit", "generationen"], ["generationen"]
    ]  # fmt: skip
    assert page["facets"]["topic"] == {"generationen": 2, "vereinbarkeit": 1}

    eins, zwei = created
    response = await client.patch(
        f"/alliances/{eins['id']}",
        json={"topics": ["kinderarmut", "vereinbarkeit"]},
        headers={**ADMIN, "If-Match": f'"{eins["version"]}"'},
    )
    assert response.status_code == 200, response.text
    response = await client.patch(
        f"/alliances/{zwei['id']}",
        json={"topics": []},
        headers={**ADMIN, "If-Match": f'"{zwei["version"]}"'},
    )
    assert response.status_code == 200, response.text
    page = await found(client)
    assert [hit["topics"] for hit in page["items"]] == [["kinderarmut", "vereinbarkeit"], []]
    assert page["facets"]["topic"] == {"kinderarmut": 1, "vereinbarkeit": 1}
    filtered = (await client.get("/alliances", params={"q": MARK, "topic": "kinderarmut"})).json()
    assert [hit["id"] for hit in filtered["items"]] == [eins["id"]]

    response = await client.delete(f"/alliances/{eins['id']}", headers=ADMIN)
    assert response.status_code in (200, 204), response.text
    page = await found(client)
    assert [hit["id"] for hit in page["items"]] == [zwei["id"]]
    assert page["facets"]["topic"] == {}
