"""The contact form on an alliance's page: no contact address in the page, German
messages at the fields, a silent honeypot, one outbox event per message, and the rate
limit, which holds under concurrent requests on PostgreSQL (the upsert's row lock).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy import select

from lobu.directory.main import create_app
from lobu.directory.settings import DirectorySettings
from lobu.shared.auth import Role
from lobu.shared.contracts.directory import CONTACT_MESSAGE_SUBMITTED
from lobu.shared.outbox import OutboxMessage
from lobu.shared.topics import DIRECTORY_CONTACT_MESSAGE
from tests.support.kafka_probe import read_topic
from tests.support.kafka_server import KafkaServer
from tests.support.tokens import TEST_AUTH, bearer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

CONTACT = {"name": "Erika Koordinatorin", "email": "erika.k@example.org", "phone": "+49 5321 1234"}
FORM = {
    "name": "Max Bürger",
    "email": "max@example.de",
    "nachricht": "Wann trifft sich das Bündnis?",
}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest_asyncio.fixture(loop_scope="session")
async def directory(database_url: str) -> AsyncIterator[FastAPI]:
    """The directory (no Kafka: the relay keeps what it cannot publish) with small limits."""
    app = create_app(
        DirectorySettings(
            database_url=database_url,
            kafka_bootstrap_servers="127.0.0.1:1",
            log_json=False,
            contact_limit_per_client=3,
            contact_limit_per_alliance=5,
            **TEST_AUTH,
        )
    )
    async with app.router.lifespan_context(app):
        yield app


def client_of(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://directory")


async def add_alliance(app: FastAPI, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "state": "NI", "postal_code": "38640", "city": "Goslar"} | fields
    async with client_of(app) as http:
        response = await http.post("/alliances", json=body, headers=bearer(Role.ADMIN))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def post(http: httpx.AsyncClient, slug: str, form: dict[str, str]) -> httpx.Response:
    return await http.post(
        f"/buendnisse/{slug}/kontakt", content=urlencode(form), headers=FORM_HEADERS
    )


async def messages_of(app: FastAPI, alliance_id: str) -> list[OutboxMessage]:
    async with app.state.runtime.sessions() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.subject == alliance_id,
                OutboxMessage.event_type == CONTACT_MESSAGE_SUBMITTED,
            )
        )
        return list(rows.all())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_form_is_on_the_page_and_a_message_becomes_one_event_without_addresses(
    directory: FastAPI,
) -> None:
    alliance = await add_alliance(directory, "Kontaktbündnis Goslar", contacts=[CONTACT])
    async with client_of(directory) as http:
        page = (await http.get(f"/buendnisse/{alliance['slug']}")).text
        response = await post(http, alliance["slug"], FORM)
        thanks = await http.get(response.headers["location"])
    for secret in (CONTACT["email"], CONTACT["phone"], CONTACT["name"], "erika"):
        assert secret not in page
        assert secret not in thanks.text
    assert 'action="/buendnisse/kontaktbuendnis-goslar/kontakt"' in page
    assert page.count('id="kontakt"') == 1  # once, in the page's body
    assert "<title>Kontaktbündnis Goslar – Lokale Bündnisse für Familie</title>" in page
    assert response.status_code == 303
    assert "Vielen Dank" in thanks.text
    [event] = await messages_of(directory, alliance["id"])
    assert event.topic == "directory.contact-message"
    assert event.data["sender_email"] == "max@example.de"
    assert event.data["message"] == FORM["nachricht"]
    assert "contacts" not in event.data


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_bad_input_gives_the_page_with_german_messages_and_the_values_kept(
    directory: FastAPI,
) -> None:
    alliance = await add_alliance(directory, "Kontaktbündnis Fehler")
    bad = {"name": "", "email": "max(at)example", "nachricht": "x" * 5001}
    async with client_of(directory) as http:
        response = await post(http, alliance["slug"], bad)
        nul = await post(http, alliance["slug"], FORM | {"name": "Max\x00"})
    assert response.status_code == 422
    page = response.text
    assert 'id="name-fehler">Bitte geben Sie Ihren Namen an.' in page
    assert re.search(r'id="email-fehler">Bitte prüfen Sie die E-Mail-Adresse', page)
    assert 'id="nachricht-fehler">Bitte höchstens 5000 Zeichen eingeben.' in page
    assert 'value="max(at)example"' in page
    assert nul.status_code == 422
    assert "Zeichen, das wir nicht speichern können" in nul.text
    assert await messages_of(directory, alliance["id"]) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_filled_honeypot_looks_like_success_and_sends_nothing(directory: FastAPI) -> None:
    alliance = await add_alliance(directory, "Kontaktbündnis Honig")
    async with client_of(directory) as http:
        response = await post(http, alliance["slug"], FORM | {"homepage": "http://spam.example"})
        empty_bot = await post(http, alliance["slug"], {"homepage": "x"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("?gesendet=1#kontakt")
    assert empty_bot.status_code == 303
    assert await messages_of(directory, alliance["id"]) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_messages_from_one_client_stop_exactly_at_the_limit(
    directory: FastAPI,
) -> None:
    """Twelve at once from one address, limit 3: three accepted, on PostgreSQL."""
    alliance = await add_alliance(directory, "Kontaktbündnis Ansturm")
    async with client_of(directory, "198.51.100.7") as http:
        responses = await asyncio.gather(*(post(http, alliance["slug"], FORM) for _ in range(12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [303] * 3 + [429] * 9
    assert len(await messages_of(directory, alliance["id"])) == 3
    refused = next(response for response in responses if response.status_code == 429)
    assert "Von Ihrem Anschluss kamen" in refused.text
    # The alliance's own limit (5) counts every client: two more pass, then none.
    results = []
    for number in range(4):
        async with client_of(directory, f"203.0.113.{number}") as other:
            results.append((await post(other, alliance["slug"], FORM)).status_code)
    assert results == [303, 303, 429, 429]
    assert len(await messages_of(directory, alliance["id"])) == 5


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_once_kafka_has_the_message_the_directory_keeps_no_copy(
    directory_app: FastAPI, kafka: KafkaServer
) -> None:
    """With the real broker: the record on the internal topic, the outbox row emptied."""
    alliance = await add_alliance(directory_app, "Kontaktbündnis Vergessen", contacts=[CONTACT])
    async with client_of(directory_app) as http:
        assert (await post(http, alliance["slug"], FORM)).status_code == 303

    async def published() -> OutboxMessage | None:
        [row] = await messages_of(directory_app, alliance["id"])
        return row if row.published_at is not None else None

    row = await eventually(published, timeout=60, what="the relay to publish the message")
    assert row.data == {}
    key = alliance["id"].encode()
    records = await read_topic(
        kafka.bootstrap_servers, DIRECTORY_CONTACT_MESSAGE,
        until=lambda seen: any(record.key == key for record in seen),
    )  # fmt: skip
    [record] = [record for record in records if record.key == key]
    assert json.loads(record.value or b"{}")["message"] == FORM["nachricht"]
