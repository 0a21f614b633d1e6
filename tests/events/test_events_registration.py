"""Registration: confirmed while seats are free, otherwise waitlisted whole; the secret
cancel link; promotion in order of arrival, the earliest request that fits first;
personal data only for editors and on the internal topic."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.events.models import Registration
from lobu.shared.contracts.events import (
    REGISTRATION_CANCELLED,
    REGISTRATION_CONFIRMED,
    REGISTRATION_PROMOTED,
    REGISTRATION_WAITLISTED,
)
from lobu.shared.outbox import OutboxMessage
from tests.events.conftest import (
    ADMIN,
    COORDINATOR,
    OTHER_COORDINATOR,
    PUBLIC_URL,
    create_edition,
    published_action,
)

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


async def register(
    client: httpx.AsyncClient, action_id: str, seats: int, name: str = "Anna Schmidt"
) -> dict[str, Any]:
    email = f"{name.split()[0].lower()}@example.org"
    response = await client.post(
        f"/actions/{action_id}/registrations", json={"name": name, "email": email, "seats": seats}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def link_path(receipt: dict[str, Any]) -> str:
    return str(receipt["cancel_url"]).removeprefix(PUBLIC_URL)


async def messages(app: FastAPI, topic: str) -> list[OutboxMessage]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(col(OutboxMessage.topic) == topic)
            .order_by(col(OutboxMessage.position))
        )
        return list(rows)


async def statuses(client: httpx.AsyncClient, action_id: str) -> dict[str, str]:
    page = await client.get(f"/actions/{action_id}/registrations", headers=ADMIN)
    return {item["name"]: item["status"] for item in page.json()["items"]}


async def test_seats_are_confirmed_until_full_then_a_request_waits_whole(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=5, registration_required=True)

    first = await register(client, action_id, 3, "Anna Schmidt")
    second = await register(client, action_id, 3, "Bernd Weiß")
    action = (await client.get(f"/actions/{action_id}")).json()

    assert first["status"] == "confirmed"
    assert second["status"] == "waitlisted"
    assert second["seats"] == 3  # never split into 2 + 1
    assert action["seats_free"] == 2
    assert str(first["cancel_url"]).startswith(f"{PUBLIC_URL}/registrations/{first['id']}/")
    internal = await messages(events_app, "events.registration")
    assert [m.event_type for m in internal] == [REGISTRATION_CONFIRMED, REGISTRATION_WAITLISTED]
    assert internal[0].data["email"] == "anna@example.org"
    assert internal[0].data["cancel_url"] == first["cancel_url"]


async def test_the_secret_is_stored_only_as_its_hash(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=5, registration_required=True)
    receipt = await register(client, action_id, 1)
    token = str(receipt["cancel_url"]).rsplit("/", 1)[1]

    async with events_app.state.runtime.sessions() as session:
        stored = await session.get(Registration, receipt["id"])
    wrong = await client.get(f"/registrations/{receipt['id']}/{token[:-1]}x")

    assert stored is not None
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64
    assert wrong.status_code == 404
    assert (await client.get(link_path(receipt))).json()["status"] == "confirmed"


async def test_cancelling_promotes_the_earliest_waiting_request_that_fits_entirely(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=10, registration_required=True)
    receipts = {}
    for name, seats in [("Anna A", 4), ("Bernd B", 4), ("Clara C", 3), ("Dora D", 2),
                        ("Emil E", 1), ("Frida F", 3)]:  # fmt: skip
        receipts[name] = await register(client, action_id, seats, name)
    assert await statuses(client, action_id) == {
        "Anna A": "confirmed", "Bernd B": "confirmed", "Clara C": "waitlisted",
        "Dora D": "confirmed", "Emil E": "waitlisted", "Frida F": "waitlisted",
    }  # fmt: skip

    # Dora's 2 seats free up: Clara (3) does not fit, Emil (1) does, Frida (3) does not.
    cancelled = await client.delete(link_path(receipts["Dora D"]))
    after_dora = await statuses(client, action_id)
    # Anna's 4 free up, 5 in all: Clara (3) first, then Frida (3) no longer fits.
    await client.delete(link_path(receipts["Anna A"]))
    after_anna = await statuses(client, action_id)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert after_dora["Emil E"] == "confirmed"
    assert after_dora["Clara C"] == "waitlisted"
    assert after_anna["Clara C"] == "confirmed"
    assert after_anna["Frida F"] == "waitlisted"
    promoted = [m for m in await messages(events_app, "events.registration")
                if m.event_type == REGISTRATION_PROMOTED]  # fmt: skip
    assert [m.data["name"] for m in promoted] == ["Emil E", "Clara C"]
    assert (await client.get(f"/actions/{action_id}")).json()["seats_free"] == 2


async def test_cancelling_twice_changes_nothing_more(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=2, registration_required=True)
    receipt = await register(client, action_id, 2)

    first = await client.delete(link_path(receipt))
    second = await client.delete(link_path(receipt))

    assert first.status_code == second.status_code == 200
    cancellations = [m for m in await messages(events_app, "events.registration")
                     if m.event_type == REGISTRATION_CANCELLED]  # fmt: skip
    assert len(cancellations) == 1
    assert (await client.get(f"/actions/{action_id}")).json()["seats_free"] == 2


async def test_personal_data_is_in_no_public_answer_and_no_public_event(
    client: httpx.AsyncClient, events_app: FastAPI
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=1, registration_required=True)
    receipt = await register(client, action_id, 1, "Zora Geheim")
    waiting = await register(client, action_id, 1, "Yusuf Geheim")
    await client.post(f"/actions/{action_id}/cancel", headers=COORDINATOR)

    public = [
        (await client.get(f"/actions/{action_id}")).text,
        (await client.get("/editions/2027/actions?state=cancelled")).text,
        (await client.get("/editions/2027/programme.ics")).text,
        (await client.get(link_path(receipt))).text,
        str(receipt),
        str(waiting),
    ] + [str(m.data) for m in await messages(events_app, "events.action")]

    for text in public:
        assert "Geheim" not in text
        assert "@example.org" not in text
    cancelled = [m for m in await messages(events_app, "events.registration")
                 if m.event_type == REGISTRATION_CANCELLED]  # fmt: skip
    assert {m.data["reason"] for m in cancelled} == {"action_cancelled"}
    assert len(cancelled) == 2


async def test_registration_rules(client: httpx.AsyncClient) -> None:
    await create_edition(client)
    open_action = await published_action(client, capacity=50, registration_required=True)
    no_registration = await published_action(client)
    draft = (
        await client.post(
            "/editions/2027/actions",
            json={"title": "Entwurf", "starts_at": "2027-05-15T10:00:00+02:00",
                  "ends_at": "2027-05-15T12:00:00+02:00", "city": "Lüneburg",
                  "registration_required": True},
            headers=COORDINATOR,
        )
    ).json()["id"]  # fmt: skip
    body = {"name": "Anna Schmidt", "email": "anna@example.org", "seats": 11}

    too_many = await client.post(f"/actions/{open_action}/registrations", json=body)
    body["seats"] = 10
    most = await client.post(f"/actions/{open_action}/registrations", json=body)
    needs_none = await client.post(f"/actions/{no_registration}/registrations", json=body)
    unpublished = await client.post(f"/actions/{draft}/registrations", json=body)
    unknown = await client.post("/actions/nope/registrations", json=body)
    bad_email = await client.post(
        f"/actions/{open_action}/registrations", json={**body, "email": "anna"}
    )

    assert too_many.status_code == 422
    assert too_many.json()["code"] == "too_many_seats"
    assert most.status_code == 201
    assert needs_none.status_code == 409
    assert unpublished.status_code == 409
    assert unknown.status_code == 404
    assert bad_email.status_code == 422


async def test_editors_list_every_registration_in_order_of_arrival(
    client: httpx.AsyncClient,
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=3, registration_required=True)
    for number in range(5):
        await register(client, action_id, 1, f"Gast{number} X")
    url = f"/actions/{action_id}/registrations"

    admin = await client.get(url, headers=ADMIN)
    own = await client.get(url, headers=COORDINATOR)
    first_two = await client.get(url, params={"limit": 2}, headers=ADMIN)
    rest = await client.get(
        url, params={"limit": 1000, "cursor": first_two.json()["next_cursor"]}, headers=ADMIN
    )
    other = await client.get(url, headers=OTHER_COORDINATOR)
    anonymous = await client.get(url)
    too_many = await client.get(url, params={"limit": 1001}, headers=ADMIN)

    items = admin.json()["items"]
    assert [item["name"] for item in items] == [f"Gast{n} X" for n in range(5)]
    assert [item["status"] for item in items] == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert {"seats", "status", "email"} <= set(items[0])
    assert own.json() == admin.json()
    assert [i["name"] for i in first_two.json()["items"] + rest.json()["items"]] == [
        i["name"] for i in items
    ]
    assert rest.json()["next_cursor"] is None
    assert other.status_code == 403
    assert anonymous.status_code == 401
    assert too_many.status_code == 422


async def test_a_larger_capacity_lets_waiting_requests_in(client: httpx.AsyncClient) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=2, registration_required=True)
    await register(client, action_id, 2, "Anna A")
    await register(client, action_id, 2, "Bernd B")

    lower = await client.patch(f"/actions/{action_id}", json={"capacity": 1}, headers=ADMIN)
    higher = await client.patch(f"/actions/{action_id}", json={"capacity": 4}, headers=ADMIN)

    assert lower.status_code == 409
    assert higher.status_code == 200
    assert await statuses(client, action_id) == {"Anna A": "confirmed", "Bernd B": "confirmed"}
