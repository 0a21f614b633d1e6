"""A person's data found and erased across all four services (issue 19's proof).

One address is an alliance contact (directory, notifications' replica), an Aktionstag
participant (events) and a mail recipient (notifications): an access request's export
lists all of it; an erasure, while the surveys service is down, completes once it is
back; afterwards no table of any service's database holds the address, the waiting
list has moved, and nothing published after the erasure names it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from lobu.shared.auth import Role, create_token
from lobu.shared.database import create_engine
from lobu.shared.settings import DEVELOPMENT_JWT_SECRET
from lobu.shared.topics import ALL_TOPICS, PRIVACY_REQUEST
from tests.e2e.conftest import NOTIFICATIONS_GROUP, Platform
from tests.support.kafka_probe import _partitions as partitions_of
from tests.support.kafka_probe import caught_up, read_topic
from tests.support.kafka_server import KafkaServer
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer
from tests.support.service_process import ServiceProcess
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

YEAR = 2028
# What the notifications group reads, less the privacy topics (another group's).
REPLAYED = [topic for topic in ALL_TOPICS if not topic.startswith("privacy.")]


def _service(
    name: str, kafka: KafkaServer, url: str, folder: Path, extra: dict[str, str]
) -> ServiceProcess:
    prefix = f"LOBU_{name.upper()}_"
    port = free_port()
    return ServiceProcess(
        app=f"lobu.{name}.main:create_app",
        port=port,
        env={
            f"{prefix}DATABASE_URL": url,
            f"{prefix}KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            f"{prefix}ENVIRONMENT": "development",
            f"{prefix}JWT_SECRET": DEVELOPMENT_JWT_SECRET,
            f"{prefix}OUTBOX_POLL_SECONDS": "0.2",
            **{prefix + key: value.format(port=port) for key, value in extra.items()},
        },
        log_file=folder / f"{name}.log",
    )


@pytest.fixture(scope="module")
def events_and_surveys(
    platform: Platform,
    kafka: KafkaServer,
    postgres: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    folder: Path = tmp_path_factory.mktemp("privacy")
    with postgres.database("events") as events_db, postgres.database("surveys") as surveys_db:
        events = _service(
            "events", kafka, events_db, folder, {"PUBLIC_URL": "http://127.0.0.1:{port}"}
        )
        surveys = _service("surveys", kafka, surveys_db, folder, {})
        events.start()
        surveys.start()
        try:
            yield events, surveys
        finally:
            events.stop()
            surveys.stop()


async def rewind(bootstrap_servers: str, group: str, topics: list[str]) -> bool:
    """Commit offset 0 on every partition of `topics` for `group` (False while refused)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [p for topic in topics for p in await partitions_of(bootstrap_servers, topic)]
        consumer.assign(partitions)
        await consumer.commit(dict.fromkeys(partitions, 0))
        return True
    except Exception:
        return False
    finally:
        await consumer.stop()


def database_of(service: ServiceProcess) -> str:
    (url,) = [value for key, value in service.env.items() if key.endswith("_DATABASE_URL")]
    return url


async def tables_holding(url: str, needle: str) -> list[str]:
    """Every table of the database with a row whose text contains `needle`."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
            found = []
            for table in list(tables):
                hit = await connection.scalar(
                    # table names from pg_tables, the needle a bound parameter
                    text(f'SELECT count(*) FROM "{table}" AS r WHERE lower(r::text) LIKE :n'),  # noqa: S608
                    {"n": f"%{needle}%"},
                )
                if hit:
                    found.append(table)
            return found
    finally:
        await engine.dispose()


async def published(platform: Platform) -> dict[tuple[str, int, int], tuple[str, str]]:
    """Every record on every topic: (topic, partition, offset) -> (topic, its text)."""
    found = {}
    for topic in ALL_TOPICS:
        for record in await read_topic(platform.kafka.bootstrap_servers, topic, timeout=30):
            text_of = (record.value or b"").decode("utf-8", "replace").lower()
            found[(topic, record.partition, record.offset)] = (topic, text_of)
    return found


async def until_done(platform: Platform, request_id: str, timeout: float = 60) -> dict:  # type: ignore[type-arg]
    async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
        states: list[dict] = []  # type: ignore[type-arg]

        async def done() -> bool:
            answer = await client.get(
                f"/privacy-requests/{request_id}", headers=platform.admin_headers
            )
            answer.raise_for_status()
            states.append(answer.json())
            return bool(answer.json()["state"] == "done")

        await eventually(done, timeout=timeout, interval=0.5, what="the privacy request done")
        return states[-1]


async def test_access_then_erasure_across_every_service(
    platform: Platform, events_and_surveys: tuple[ServiceProcess, ServiceProcess]
) -> None:
    events, surveys = events_and_surveys
    person = f"person-{uuid.uuid4().hex[:10]}@example.org"
    waiting = f"wartend-{uuid.uuid4().hex[:10]}@example.org"
    admin = platform.admin_headers
    async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
        created = await client.post(
            "/alliances",
            json={
                "name": f"Lokales Bündnis für Familie Celle {uuid.uuid4().hex[:6]}",
                "state": "NI", "postal_code": "29221", "city": "Celle",
                "contacts": [
                    {"name": "Erika Muster", "email": person},
                    {"name": "Jörg Weiß", "email": f"bleibt-{uuid.uuid4().hex[:6]}@example.org"},
                ],
            },
            headers=admin,
        )  # fmt: skip
        assert created.status_code == 201, created.text
    alliance_id = created.json()["id"]
    coordinator = {
        "Authorization": "Bearer "
        + create_token(secret=DEVELOPMENT_JWT_SECRET, role=Role.ALLIANCE, alliance_id=alliance_id)
    }
    async with httpx.AsyncClient(base_url=events.url, timeout=30) as client:
        made = await client.post("/editions", json={"year": YEAR}, headers=admin)
        assert made.status_code in (201, 409), made.text
        action_ids: list[str] = []

        async def entered() -> bool:
            answer = await client.post(
                f"/editions/{YEAR}/actions",
                json={
                    "title": "Familienfest", "description": "Spiele",
                    "starts_at": f"{YEAR}-05-15T11:00:00+02:00",
                    "ends_at": f"{YEAR}-05-15T16:00:00+02:00",
                    "city": "Celle", "postal_code": "29221", "capacity": 2,
                    "registration_required": True, "target_groups": ["familien"],
                },
                headers=coordinator,
            )  # fmt: skip
            if answer.status_code == 201:
                action_ids.append(str(answer.json()["id"]))
            return answer.status_code == 201

        await eventually(entered, timeout=60, interval=1, what="events to know the alliance")
        (action_id,) = action_ids
        assert (await client.post(f"/actions/{action_id}/submit", headers=coordinator)).is_success
        assert (await client.post(f"/actions/{action_id}/publish", headers=admin)).is_success
        for address, name in ((person, "Erika Muster"), (waiting, "Wanda Wartend")):
            registered = await client.post(
                f"/actions/{action_id}/registrations",
                json={"name": name, "email": address, "seats": 2},
            )
            assert registered.status_code == 201, registered.text
        waiting_id = registered.json()["id"]
        assert registered.json()["status"] == "waitlisted"
    await eventually(
        lambda: bool(platform.mails_to(person)), timeout=60, what="a mail to the person"
    )
    await platform.settle()

    # Access: the export names the contact, the registration and the mail.
    async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
        asked = await client.post(
            "/privacy-requests", json={"email": person.upper(), "kind": "access"}, headers=admin
        )
        assert asked.status_code == 201, asked.text
        status = await until_done(platform, asked.json()["id"])
        assert status["services"] == dict.fromkeys(
            ["directory", "events", "notifications", "surveys"], "done"
        )
        assert status["export_url"].startswith("http://")
        exported = (await client.get(status["export_url"], headers=admin)).json()
        services = exported["services"]
        assert [c["alliance_id"] for c in services["directory"]["contacts"]] == [alliance_id]
        assert [r["action_id"] for r in services["events"]["registrations"]] == [action_id]
        assert services["notifications"]["deliveries"], services["notifications"]
        assert services["notifications"]["alliance_contacts"]
        assert services["surveys"] == {"survey_answers": []}
        assert (await client.get(status["export_url"])).status_code == 401

    # Erasure while the surveys service is down: pending, then done once it is back.
    mails_before = platform.mails_to(person)
    earlier = await published(platform)
    # The search finds the address where it is (so that its finding nothing later counts).
    assert "alliances" in await tables_holding(database_of(platform.directory), person)
    assert "registrations" in await tables_holding(database_of(events), person)
    assert {"deliveries", "contacts_replicas"} <= set(
        await tables_holding(database_of(platform.notifications), person)
    )
    surveys.stop()
    try:
        async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
            erase = await client.post(
                "/privacy-requests", json={"email": person, "kind": "erasure"}, headers=admin
            )
            assert erase.status_code == 201, erase.text
            erasure_id = erase.json()["id"]

            async def others_answered() -> bool:
                answer = await client.get(f"/privacy-requests/{erasure_id}", headers=admin)
                services = answer.json()["services"]
                return bool(services["events"] == services["notifications"] == "done")

            await eventually(others_answered, timeout=60, what="the running services' answers")
            pending = (await client.get(f"/privacy-requests/{erasure_id}", headers=admin)).json()
            assert pending["state"] == "pending"
            assert pending["services"]["surveys"] == "pending"
    finally:
        surveys.start()
    erased = await until_done(platform, erasure_id)
    assert erased["erased"]["directory"]["contacts"] == 1
    assert erased["erased"]["events"]["registrations"] == 1
    assert erased["erased"]["notifications"]["deliveries"] >= 1
    await platform.settle()

    # The waiting list moved into the freed seats.
    async with httpx.AsyncClient(base_url=events.url, timeout=30) as client:
        listed = await client.get(f"/actions/{action_id}/registrations", headers=admin)
        items = {item["id"]: item for item in listed.json()["items"]}
        assert items[waiting_id]["status"] == "confirmed"
        assert person not in listed.text

    # No table of any service holds the address.
    services = [platform.directory, platform.notifications, events, surveys]
    for service in services:
        assert await tables_holding(database_of(service), person) == [], service.app

    # Nothing published since the erasure request names the address (but the request
    # itself, which must carry it to the services).
    later = await published(platform)
    new = [later[key] for key in later.keys() - earlier.keys()]
    assert new, "the erasure published nothing"
    naming = [topic for topic, value in new if person in value and topic != PRIVACY_REQUEST]
    assert naming == []

    # Replaying every topic from the beginning (the inbox forgotten, as after its
    # retention) does not bring the address back into notifications.
    platform.notifications.stop()
    try:
        await eventually(
            lambda: rewind(platform.kafka.bootstrap_servers, NOTIFICATIONS_GROUP, REPLAYED),
            timeout=90, interval=2, what="the notifications group rewound",
        )  # fmt: skip
        engine = create_engine(database_of(platform.notifications))
        try:
            async with engine.begin() as connection:
                forgotten = await connection.execute(
                    text("DELETE FROM inbox WHERE consumer = :group"),
                    {"group": NOTIFICATIONS_GROUP},
                )
                assert forgotten.rowcount > 0
        finally:
            await engine.dispose()
    finally:
        platform.notifications.start()
    await eventually(
        lambda: caught_up(platform.kafka.bootstrap_servers, NOTIFICATIONS_GROUP, REPLAYED),
        timeout=120, what="notifications to read every topic again",
    )  # fmt: skip
    await platform.settle()
    assert await tables_holding(database_of(platform.notifications), person) == []
    assert len(platform.mails_to(person)) == len(mails_before)  # no mail to it since
