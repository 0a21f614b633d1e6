"""Capacity is never oversold: 200 requests of 1–3 seats at once for 40 seats, then
cancellations and new requests at once, on SQLite and on PostgreSQL. (Five requests
per seat, as before with 500 for 100; `bench/` is the place for bigger bursts.)

The requests go round-robin to four instances of the app on one database, as to four
uvicorn workers: each instance has its own engine, pool and in-process queue, so up
to four transactions contend for the action's database lock at any moment, and only
that lock (service/locking.py) can keep them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from lobu.events.main import create_app
from lobu.events.models import Action, Registration
from tests.events.conftest import PUBLIC_URL, SettingsFactory, create_edition, published_action

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CAPACITY = 40
REQUESTS = 200
WORKERS = 4
CHURN = 12  # confirmed participants who cancel while as many newcomers register


@pytest_asyncio.fixture(loop_scope="session")
async def workers(
    client: httpx.AsyncClient, database_url: str, events_settings: SettingsFactory
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """The fixture's app and three more instances on the same database, started."""
    async with contextlib.AsyncExitStack() as stack:
        clients = [client]
        for number in range(1, WORKERS):
            app = create_app(events_settings(database_url))
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url=f"http://worker{number}"
                    )
                )
            )
        yield clients


async def _register(client: httpx.AsyncClient, action_id: str, number: int, seats: int) -> Any:
    response = await client.post(
        f"/actions/{action_id}/registrations",
        json={"name": f"Gast {number}", "email": f"gast{number}@example.org", "seats": seats},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _rows(app: FastAPI, action_id: str) -> tuple[Action, list[Registration]]:
    async with app.state.runtime.sessions() as session:
        action = await session.get(Action, action_id)
        assert action is not None
        rows = await session.scalars(
            select(Registration).where(Registration.action_id == action_id)  # type: ignore[arg-type]
        )
        return action, sorted(rows, key=lambda r: r.arrival)


def _check_invariants(action: Action, registrations: list[Registration], expected: int) -> None:
    confirmed = [r for r in registrations if r.status == "confirmed"]
    waiting = [r for r in registrations if r.status == "waitlisted"]
    taken = sum(r.seats for r in confirmed)
    # None lost: every request is there, each once, with its own place in the order.
    assert len(registrations) == expected
    assert len({r.arrival for r in registrations}) == expected
    # Never oversold, and the counter agrees with the rows.
    assert taken <= CAPACITY
    assert action.seats_taken == taken
    # Fewer than all seats only where no waiting request fits the rest.
    assert all(r.seats > CAPACITY - taken for r in waiting)
    # Fair: a request confirmed after one that waits needed fewer seats than it.
    for waiting_request in waiting:
        for later in confirmed:
            if later.arrival > waiting_request.arrival and not later.promoted:
                assert later.seats < waiting_request.seats


async def test_200_concurrent_requests_never_oversell_40_seats(
    client: httpx.AsyncClient, events_app: FastAPI, workers: list[httpx.AsyncClient]
) -> None:
    await create_edition(client)
    action_id = await published_action(client, capacity=CAPACITY, registration_required=True)
    chance = random.Random(15)
    seats = [chance.randint(1, 3) for _ in range(REQUESTS)]

    receipts = await asyncio.gather(
        *(
            _register(workers[number % WORKERS], action_id, number, s)
            for number, s in enumerate(seats)
        )
    )

    assert {r["status"] for r in receipts} == {"confirmed", "waitlisted"}
    action, registrations = await _rows(events_app, action_id)
    _check_invariants(action, registrations, REQUESTS)
    assert sum(r.seats for r in registrations if r.status == "confirmed") >= CAPACITY - 2

    # Now CHURN confirmed participants cancel while as many people register, all at once.
    confirmed = [r for r in receipts if r["status"] == "confirmed"]
    leaving = chance.sample(confirmed, CHURN)
    cancellations = [
        workers[n % WORKERS].delete(str(r["cancel_url"]).removeprefix(PUBLIC_URL))
        for n, r in enumerate(leaving)
    ]
    newcomers = [
        _register(workers[(n + 1) % WORKERS], action_id, REQUESTS + n, chance.randint(1, 3))
        for n in range(CHURN)
    ]
    results = await asyncio.gather(*cancellations, *newcomers)

    assert all(r.status_code == 200 for r in results[:CHURN])
    action, registrations = await _rows(events_app, action_id)
    active = [r for r in registrations if r.status != "cancelled"]
    assert len(registrations) - len(active) == CHURN
    _check_invariants(action, active, REQUESTS)
