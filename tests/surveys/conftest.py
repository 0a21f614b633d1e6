"""The surveys app in-process, a settable clock, tokens, and helpers to seed the replica.

The settings are built in one place (`surveys_settings`), so a change to the shared
defaults (e.g. a JWT secret that tests must set explicitly) is made once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import col

from lobu.shared import Envelope, transaction
from lobu.shared.auth import Role, create_token
from lobu.shared.contracts.directory import ALLIANCE_CREATED, ALLIANCE_UPDATED
from lobu.shared.outbox import OutboxMessage
from lobu.shared.web_sessions import SESSION_COOKIE, SessionIssuer
from lobu.surveys.main import create_app
from lobu.surveys.settings import SurveySettings
from tests.support.tokens import TEST_JWT_SECRET

JWT_SECRET = TEST_JWT_SECRET
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def bearer(role: Role, alliance_id: str | None = None) -> dict[str, str]:
    """Authorization headers for a token of `role`."""
    token = create_token(secret=JWT_SECRET, role=role, alliance_id=alliance_id)
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(Role.ADMIN)


@dataclass(frozen=True)
class SignedIn:
    """A browser session: the Cookie header to send, and the CSRF value its forms carry."""

    headers: dict[str, str]
    csrf: str
    token: str


def signed_in(
    settings: SurveySettings, role: Role, alliance_id: str | None = None, *,
    email: str = "grete@example.org",
) -> SignedIn:  # fmt: skip
    """A session cookie as the directory's sign-in sets it (lobu.shared.web_sessions)."""
    token, session = SessionIssuer(settings).issue(
        subject=f"person:{email}", role=role, email=email, alliance_id=alliance_id,
        lifetime=timedelta(minutes=30),
    )  # fmt: skip
    return SignedIn({"Cookie": f"{SESSION_COOKIE}={token}"}, session.csrf_token, token)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    """The app's clock, at START."""
    return FakeClock()


def make_settings(database_url: str, **overrides: Any) -> SurveySettings:
    """The surveys settings every test uses; Kafka unreachable unless given."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": "127.0.0.1:9",
        "environment": "test",
        "jwt_secret": JWT_SECRET,
        "log_json": False,
        "scheduler_seconds": 3600.0,  # tests drive the scheduler by hand
        "public_base_url": "http://127.0.0.1:8002",
    }
    values.update(overrides)
    return SurveySettings(**values)


@pytest.fixture
def surveys_settings(database_url: str) -> SurveySettings:
    """Settings on the test's database (SQLite and PostgreSQL)."""
    return make_settings(database_url)


@pytest_asyncio.fixture(loop_scope="session")
async def surveys_app(surveys_settings: SurveySettings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    """The surveys app, started (migrations run, scheduler idle, Kafka unreachable)."""
    app = create_app(surveys_settings, clock=clock)
    async with app.router.lifespan_context(app):
        yield app


@pytest_asyncio.fixture(loop_scope="session")
async def client(surveys_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process."""
    transport = httpx.ASGITransport(app=surveys_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://surveys") as http:
        yield http


_counter = iter(range(1, 10**6))


def alliance_snapshot(
    alliance_id: str, *, version: int = 1, status: str = "active", state: str = "NW",
    topics: list[str] | None = None, awards: list[dict[str, Any]] | None = None,
    slug: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The data of a directory snapshot event."""
    return {
        "id": alliance_id, "slug": slug or f"buendnis-{alliance_id[:8]}",
        "name": f"Lokales Bündnis {alliance_id[:8]}", "state": state, "postal_code": "50667",
        "city": "Köln", "status": status, "topics": topics or ["vereinbarkeit"],
        "awards": awards or [], "version": version,
        "created_at": START.isoformat(), "updated_at": START.isoformat(),
    }  # fmt: skip


def alliance_event(data: dict[str, Any], *, created: bool = False) -> Envelope:
    """A directory event carrying `data`."""
    return Envelope(
        type=ALLIANCE_CREATED if created else ALLIANCE_UPDATED,
        source="/lobu/directory",
        subject=data["id"],
        data=data if created else {**data, "changed_fields": []},
    )


@dataclass
class Seeder:
    """Puts alliances into the app's replica, as the consumer would."""

    app: FastAPI
    ids: list[str] = field(default_factory=list)

    async def alliance(self, **kwargs: Any) -> str:
        """One more alliance in the replica; returns its id."""
        alliance_id = f"{next(_counter):08d}-0000-4000-8000-000000000000"
        await self.event(alliance_snapshot(alliance_id, **kwargs))
        self.ids.append(alliance_id)
        return alliance_id

    async def event(self, data: dict[str, Any]) -> None:
        """Apply a directory update carrying `data` through the service's handler."""
        reactions = self.app.state.replica_reactions
        async with transaction(self.app.state.runtime.sessions) as session:
            await reactions.on_snapshot(session, alliance_event(data))


@pytest.fixture
def seeder(surveys_app: FastAPI) -> Seeder:
    """Seeds the replica of the running app."""
    return Seeder(surveys_app)


async def outbox(app: FastAPI, event_type: str | None = None) -> list[OutboxMessage]:
    """The app's outbox rows (of one type), in order."""
    async with app.state.runtime.sessions() as session:
        statement = select(OutboxMessage).order_by(col(OutboxMessage.position))
        if event_type:
            statement = statement.where(col(OutboxMessage.event_type) == event_type)
        return list((await session.scalars(statement)).all())


def questionnaire() -> list[dict[str, Any]]:
    """Questions of every type, with skip logic."""
    return [
        {"key": "themen", "text": "Welche Themen sind künftig wichtig?", "type": "multiple",
         "max_choices": 3, "required": True,
         "options": [{"code": c, "label": c.title()} for c in
                     ("vereinbarkeit", "kinderarmut", "kinderbetreuung", "migration")]},
        {"key": "social-media", "text": "Hat Ihr Bündnis einen Social-Media-Kanal?",
         "type": "single", "required": True,
         "options": [{"code": "ja", "label": "Ja"}, {"code": "nein", "label": "Nein"}]},
        {"key": "kanal-warum-nicht", "text": "Warum nicht?", "type": "text", "max_length": 50,
         "show_if": {"question": "social-media", "any_of": ["nein"]}, "required": True},
        {"key": "zufriedenheit", "text": "Wie zufrieden sind Sie mit der Unterstützung?",
         "type": "likert",
         "options": [{"code": c, "label": c} for c in ("sehr-gut", "gut", "mittel", "gar-nicht")]},
        {"key": "partner", "text": "Wie viele Partner hat Ihr Bündnis?", "type": "number",
         "min": 0, "max": 500, "integer": True},
    ]  # fmt: skip


def survey_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /surveys body, closing 30 days after START."""
    body: dict[str, Any] = {
        "year": 2026,
        "title": "Bündnisumfrage 2026",
        "intro": "Wie arbeitet Ihr Bündnis?",
        "closes_at": (START + timedelta(days=30)).isoformat(),
        "questions": questionnaire(),
    }
    body.update(overrides)
    return body


def link_token(message: OutboxMessage) -> str:
    """The token in an invitation/reminder/receipt event's link."""
    link = str(message.data["link"])
    return link.rsplit("/umfrage/", 1)[1]
