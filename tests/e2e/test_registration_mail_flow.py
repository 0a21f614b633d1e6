"""A participant registers for an Aktionstag action and cancels by the link in the
confirmation mail: directory, events and notifications as processes on the real broker
and PostgreSQL, mails in the SMTP sink.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from lobu.shared.auth import Role, create_token
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from tests.e2e.conftest import Platform
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

YEAR = 2027


@pytest.fixture(scope="module")
def events(
    platform: Platform,
    kafka: KafkaServer,
    postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServiceProcess]:
    folder: Path = tmp_path_factory.mktemp("events")
    port = free_port()
    with postgres.database("events") as url:
        service = ServiceProcess(
            app="lobu.events.main:create_app",
            port=port,
            env={
                "LOBU_EVENTS_DATABASE_URL": url,
                "LOBU_EVENTS_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "LOBU_EVENTS_ENVIRONMENT": "development",
                "LOBU_EVENTS_JWT_SECRET": DEVELOPMENT_JWT_SECRET,
                "LOBU_EVENTS_OUTBOX_POLL_SECONDS": "0.2",
                "LOBU_EVENTS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            },
            log_file=folder / "events.log",
        )
        service.start()
        try:
            yield service
        finally:
            service.stop()


def text_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


async def test_registration_confirmed_then_cancelled_by_mail(
    platform: Platform, events: ServiceProcess
) -> None:
    async with httpx.AsyncClient(base_url=platform.directory.url) as client:
        response = await client.post(
            "/alliances",
            json={
                "name": f"Lokales Bündnis für Familie Celle {uuid.uuid4().hex[:6]}",
                "state": "NI",
                "postal_code": "29221",
                "city": "Celle",
                "topics": ["vereinbarkeit"],
                "contacts": [{"name": "Jörg Weiß", "email": "koordination@example.org"}],
            },
            headers=platform.admin_headers,
        )
        assert response.status_code == 201, response.text
    alliance_id = response.json()["id"]
    coordinator = {
        "Authorization": "Bearer "
        + create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ALLIANCE, alliance_id=alliance_id)
    }
    async with httpx.AsyncClient(base_url=events.url) as client:
        made = await client.post("/editions", json={"year": YEAR}, headers=platform.admin_headers)
        assert made.status_code in (201, 409), made.text
        action_ids: list[str] = []

        async def entered() -> bool:
            answer = await client.post(
                f"/editions/{YEAR}/actions",
                json={
                    "title": "Familienfest am Mühlbach",
                    "description": "Spiele und Musik für Groß und Klein",
                    "starts_at": "2027-05-15T11:00:00+02:00",
                    "ends_at": "2027-05-15T16:00:00+02:00",
                    "city": "Celle",
                    "postal_code": "29221",
                    "street": "Mühlweg 3",
                    "capacity": 10,
                    "registration_required": True,
                    "target_groups": ["familien"],
                },
                headers=coordinator,
            )
            if answer.status_code == 201:
                action_ids.append(str(answer.json()["id"]))
                return True
            return False

        await eventually(entered, timeout=60, interval=1, what="events to know the alliance")
        (action_id,) = action_ids
        submitted = await client.post(f"/actions/{action_id}/submit", headers=coordinator)
        assert submitted.status_code == 200, submitted.text
        published = await client.post(
            f"/actions/{action_id}/publish", headers=platform.admin_headers
        )
        assert published.status_code == 200, published.text

        email = f"teilnahme-{uuid.uuid4().hex[:10]}@example.org"
        registered = await client.post(
            f"/actions/{action_id}/registrations",
            json={"name": "Jürgen Weiß", "email": email, "seats": 2},
        )
        assert registered.status_code == 201, registered.text

        def mails(subject: str) -> list[EmailMessage]:
            return [m for m in platform.mails_to(email) if m["Subject"].startswith(subject)]

        await eventually(
            lambda: bool(mails("Anmeldung bestätigt")), timeout=60, what="the confirmation"
        )
        text = text_part(mails("Anmeldung bestätigt")[0])
        assert "am 15.05.2027 um 11:00 Uhr" in text
        match = re.search(r"^(http\S+)\r?$", text.split("\n--\n")[0], flags=re.MULTILINE)
        assert match, text
        cancelled = await client.delete(match.group(1))
        assert cancelled.status_code in (200, 204), cancelled.text
        await eventually(
            lambda: bool(mails("Abmeldung bestätigt")), timeout=60, what="the cancellation"
        )
