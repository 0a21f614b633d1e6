"""The Servicebüro's statistics against data counted by hand: actions and places per Land,
registrations and fill rate, the CSV for German Excel and the report page; admins only.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from lobu.shared.spreadsheet_csv import BYTE_ORDER_MARK
from tests.events.conftest import (
    ADMIN,
    COORDINATOR,
    YEAR,
    action_body,
    create_edition,
    published_action,
    seed_alliance,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def database_url(tmp_path: object) -> str:
    """Counting, not storage: SQLite (the storage tests run on both backends)."""
    return f"sqlite+aiosqlite:///{tmp_path}/statistics.db"


async def register(client: httpx.AsyncClient, action_id: str, name: str, seats: int) -> str:
    body = {"name": name, "email": f"{name.lower()}@example.org", "seats": seats}
    response = await client.post(f"/actions/{action_id}/registrations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["cancel_url"]).split("/registrations/")[1]


async def bavarian_action(client: httpx.AsyncClient, alliance_id: str, **changes: object) -> str:
    body = action_body(alliance_id=alliance_id, city="München", postal_code="80331",
                       latitude=48.137, longitude=11.575, **changes)  # fmt: skip
    created = await client.post(f"/editions/{YEAR}/actions", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    action_id = str(created.json()["id"])
    for step in ("submit", "publish"):
        assert (await client.post(f"/actions/{action_id}/{step}", headers=ADMIN)).status_code == 200
    return action_id


async def hand_counted_edition(client: httpx.AsyncClient, app: FastAPI) -> None:
    """NI: 5 actions at 1 place + 1 online, 1 cancelled; BY: 1 action. See the test."""
    await create_edition(client)
    bavaria = str(uuid.uuid4())
    await seed_alliance(app, bavaria, name="Bündnis München", state="BY", city="München",
                        postal_code="80331")  # fmt: skip
    a1 = await published_action(client, capacity=10, registration_required=True)
    await published_action(client)  # same place (21335 Lüneburg), no registration
    await published_action(client, online=True, online_url="https://example.org/live",
                           city=None, postal_code=None, latitude=None, longitude=None)  # fmt: skip
    a4 = await published_action(client, capacity=4, registration_required=True)
    goslar = await published_action(client, city="Goslar", postal_code="38640")
    assert (await client.post(f"/actions/{goslar}/cancel", headers=COORDINATOR)).status_code == 200
    b1 = await bavarian_action(client, bavaria, capacity=6, registration_required=True)
    draft = action_body(alliance_id=bavaria, title="Noch ein Entwurf")
    assert (
        await client.post(f"/editions/{YEAR}/actions", json=draft, headers=ADMIN)
    ).status_code == 201
    await register(client, a1, "Anna", 3)
    await register(client, a1, "Ben", 2)
    cara = await register(client, a1, "Cara", 1)
    assert (await client.delete(f"/registrations/{cara}")).status_code == 200
    await register(client, a4, "Dora", 4)
    await register(client, a4, "Emil", 2)  # waits: A4 is full
    await register(client, b1, "Fritz", 3)
    open_end = await published_action(client, registration_required=True)  # no capacity
    await register(client, open_end, "Gustav", 2)  # counts, but not in the fill rate


async def test_statistics_per_land_match_the_hand_count(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await hand_counted_edition(client, events_app)
    response = await client.get(f"/editions/{YEAR}/statistics", headers=ADMIN)
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["final"] is False
    by_land = {row["land"]: row for row in figures["by_land"]}
    assert list(by_land) == ["BY", "NI"]  # Bayern before Niedersachsen
    assert by_land["NI"] == {
        "land": "NI", "actions": 5, "cancelled": 1, "places": 1, "online": 1,
        "registrations": 4, "seats_confirmed": 11, "seats_waiting": 2, "capacity": 14,
        "fill_rate": 0.6429,
    }  # fmt: skip
    assert by_land["BY"] == {
        "land": "BY", "actions": 1, "cancelled": 0, "places": 1, "online": 0,
        "registrations": 1, "seats_confirmed": 3, "seats_waiting": 0, "capacity": 6,
        "fill_rate": 0.5,
    }  # fmt: skip
    total = figures["total"]
    assert (total["actions"], total["cancelled"], total["places"], total["online"]) == (6, 1, 2, 1)
    assert (total["registrations"], total["seats_confirmed"], total["capacity"]) == (5, 14, 20)
    assert total["fill_rate"] == 0.6

    csv = await client.get(f"/editions/{YEAR}/statistics.csv", headers=ADMIN)
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    lines = csv.content.decode("utf-8").split("\r\n")
    assert lines[0].startswith(BYTE_ORDER_MARK + "Land;Aktionen;Abgesagt;Orte;Online;")
    assert lines[1:4] == [
        "Bayern;1;0;1;0;1;3;0;6;50,0",
        "Niedersachsen;5;1;1;1;4;11;2;14;64,3",
        "Gesamt;6;1;2;1;5;14;2;20;60,0",
    ]

    page = await client.get(f"/aktionstag/{YEAR}/statistik", headers=ADMIN)
    assert page.status_code == 200
    assert "6 Aktionen an 2 Orten und 1 online, 1 abgesagt." in page.text
    assert "5 Anmeldungen mit 14 Plätzen; Auslastung" in page.text
    assert "60,0 %" in page.text
    assert "Vorläufige Zahlen" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_statistics_are_for_the_servicebuero_only(client: httpx.AsyncClient) -> None:
    await create_edition(client)
    for path in ("statistics", "statistics.csv"):
        assert (await client.get(f"/editions/{YEAR}/{path}")).status_code == 401
        assert (
            await client.get(f"/editions/{YEAR}/{path}", headers=COORDINATOR)
        ).status_code == 403
    # The report is a page: anonymous people are sent to sign in, coordinators refused.
    anonymous = await client.get(f"/aktionstag/{YEAR}/statistik")
    assert anonymous.status_code == 303
    assert "/anmelden?weiter=" in anonymous.headers["location"]
    refused = await client.get(f"/aktionstag/{YEAR}/statistik", headers=COORDINATOR)
    assert refused.status_code == 403
    assert (await client.get("/editions/2031/statistics", headers=ADMIN)).status_code == 404
