"""The shipped demo alliances load into an empty directory, once; places are found by name."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.directory.demo import load_demo_data_if_empty
from lobu.directory.models import Alliance
from lobu.directory.places import Gazetteer
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.outbox import OutboxMessage

pytestmark = pytest.mark.integration


@pytest.mark.asyncio(loop_scope="session")
async def test_demo_data_fills_an_empty_directory_once(
    client: httpx.AsyncClient, directory_app: FastAPI
) -> None:
    directory = directory_app.state.directory

    loaded = await load_demo_data_if_empty(directory)
    again = await load_demo_data_if_empty(directory)

    page = (await client.get("/alliances", params={"limit": 1})).json()
    assert loaded == 400
    assert again == 0
    assert page["total"] == 400
    assert len(page["facets"]["state"]) == 16
    near_hannover = (
        await client.get("/alliances", params={"near": "52.3759,9.7320", "radius_km": 30})
    ).json()
    assert near_hannover["total"] >= 1

    # Existing members with invented contacts: a survey opened under `make run` has
    # someone to invite, and nobody is welcomed.
    async with directory_app.state.runtime.sessions() as session:
        created = (
            await session.scalars(
                select(OutboxMessage).where(col(OutboxMessage.event_type) == ALLIANCE_CREATED)
            )
        ).all()
        alliances = (await session.scalars(select(Alliance))).all()
    assert len(created) == 400
    assert {row.data["entry"] for row in created} == {"existing"}
    assert all(1 <= len(alliance.contacts) <= 2 for alliance in alliances)
    addresses = [person["email"] for alliance in alliances for person in alliance.contacts]
    assert all(address.endswith("@example.org") for address in addresses)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Hannover", "Hannover"),
        ("göttingen", "Göttingen"),
        ("Goettingen", "Göttingen"),
        ("Frankfurt", "Frankfurt am Main"),
        ("Halle", "Halle (Saale)"),
        ("Muenchen", "München"),
    ],
)
def test_the_gazetteer_finds_places_as_people_type_them(name: str, expected: str) -> None:
    place = Gazetteer.shipped().find(name)
    assert place is not None
    assert place.name == expected


def test_an_unknown_place_is_none() -> None:
    assert Gazetteer.shipped().find("Atlantis") is None
    assert Gazetteer.shipped().find("  ") is None
