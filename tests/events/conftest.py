"""The events app in-process, on SQLite and on PostgreSQL, with tokens and a seeded replica.

Every test builds its settings through `events_settings`, the one place that knows
what they need: the database, the broker (an unreachable one unless a test brings
the real broker), and an explicit JWT secret.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from lobu.events.main import create_app
from lobu.events.service import AllianceReplicas
from lobu.events.settings import EventsSettings
from lobu.shared import Envelope, transaction
from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.directory import ALLIANCE_CREATED, AllianceCreated

JWT_SECRET = "events-tests-secret-not-the-development-one"
PUBLIC_URL = "https://aktionstag.example.org"
NO_BROKER = "127.0.0.1:9"  # nothing listens: the outbox keeps what the tests look at

ALLIANCE = "0b6c3f1e-0000-4000-8000-00000000000a"
OTHER_ALLIANCE = "0b6c3f1e-0000-4000-8000-00000000000b"
YEAR = 2027


def bearer(role: Role, alliance_id: str | None = None) -> dict[str, str]:
    """Authorization headers for a token signed with the tests' secret."""
    token = create_token(secret=JWT_SECRET, role=role, alliance_id=alliance_id)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN)
COORDINATOR = bearer(Role.ALLIANCE, ALLIANCE)
OTHER_COORDINATOR = bearer(Role.ALLIANCE, OTHER_ALLIANCE)

SettingsFactory = Callable[..., EventsSettings]


@pytest.fixture
def events_settings() -> SettingsFactory:
    """Builds the service's settings for a test; the only place tests construct them."""

    def build(database_url: str, *, kafka: str = NO_BROKER, **overrides: Any) -> EventsSettings:
        return EventsSettings(
            database_url=database_url,
            kafka_bootstrap_servers=kafka,
            environment="test",
            jwt_secret=JWT_SECRET,
            public_url=PUBLIC_URL,
            log_json=False,
            **overrides,
        )

    return build


@pytest_asyncio.fixture(loop_scope="session")
async def events_app(database_url: str, events_settings: SettingsFactory) -> AsyncIterator[FastAPI]:
    """The events app, started (migrations run, relay on, Kafka unreachable)."""
    app = create_app(events_settings(database_url))
    async with app.router.lifespan_context(app):
        await seed_alliance(app, ALLIANCE, name="Lokales Bündnis für Familie Lüneburg")
        await seed_alliance(app, OTHER_ALLIANCE, name="Lokales Bündnis für Familie Goslar",
                            state="NI", city="Goslar", postal_code="38640")  # fmt: skip
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(events_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=events_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://events") as http:
        yield http


def alliance_event(
    alliance_id: str, *, version: int = 1, name: str = "Lokales Bündnis für Familie Lüneburg",
    state: str = "NI", city: str = "Lüneburg", postal_code: str = "21335",
    status: str = "active", event_type: str = ALLIANCE_CREATED, model: Any = AllianceCreated,
) -> Envelope:  # fmt: skip
    """An alliance event as the directory publishes it."""
    moment = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    slug = "lokales-buendnis-" + alliance_id[-4:]
    data = model(
        id=alliance_id, slug=slug, name=name, state=state, postal_code=postal_code, city=city,
        latitude=53.2464, longitude=10.4115, status=status, version=version,
        created_at=moment, updated_at=moment,
    )  # fmt: skip
    return Envelope(
        type=event_type,
        source="/lobu/directory",
        subject=alliance_id,
        data=data.model_dump(mode="json"),
    )


async def seed_alliance(app: FastAPI, alliance_id: str, **fields: Any) -> None:
    """Put an alliance into the replica as the consumer would."""
    runtime = app.state.runtime
    async with transaction(runtime.sessions) as session:
        await AllianceReplicas(source=runtime.source).on_snapshot(
            session, alliance_event(alliance_id, **fields)
        )


def action_body(**changes: Any) -> dict[str, Any]:
    """A valid action for the 2027 edition."""
    body: dict[str, Any] = {
        "title": "Familienfest auf dem Marktplatz",
        "description": "Spiele und Musik für Groß und Klein",
        "starts_at": "2027-05-15T11:00:00+02:00",
        "ends_at": "2027-05-15T16:00:00+02:00",
        "city": "Lüneburg",
        "postal_code": "21335",
        "latitude": 53.2464,
        "longitude": 10.4115,
        "capacity": None,
        "registration_required": False,
        "target_groups": ["familien", "kinder"],
    }
    body.update(changes)
    return body


async def create_edition(client: httpx.AsyncClient, year: int = YEAR) -> None:
    """Open an edition whose entry window is open now."""
    response = await client.post("/editions", json={"year": year}, headers=ADMIN)
    assert response.status_code == 201, response.text


async def published_action(client: httpx.AsyncClient, **changes: Any) -> str:
    """An action of ALLIANCE entered, submitted and published; its id."""
    response = await client.post(
        f"/editions/{YEAR}/actions", json=action_body(**changes), headers=COORDINATOR
    )
    assert response.status_code == 201, response.text
    action_id = str(response.json()["id"])
    assert (
        await client.post(f"/actions/{action_id}/submit", headers=COORDINATOR)
    ).status_code == 200
    assert (await client.post(f"/actions/{action_id}/publish", headers=ADMIN)).status_code == 200
    return action_id
