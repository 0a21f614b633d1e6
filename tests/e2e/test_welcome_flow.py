"""An alliance entered in the directory reaches Kafka, and its contacts get a welcome email."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS
from tests.e2e.conftest import Platform
from tests.support.kafka_probe import publish_raw, read_topic
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


def new_alliance(email: str) -> dict[str, object]:
    """A valid alliance with one contact."""
    return {
        "name": f"Lokales Bündnis für Familie Celle {uuid.uuid4().hex[:6]}",
        "state": "NI",
        "postal_code": "29221",
        "city": "Celle",
        "topics": ["vereinbarkeit"],
        "contacts": [{"name": "Jörg Weiß", "email": email, "role": "Koordination"}],
    }


def json_object(value: bytes | None) -> dict[str, object]:
    """A record's value as a JSON object; empty for anything else (poison tests share the topic)."""
    try:
        decoded = json.loads(value or b"")
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}


def unique_email() -> str:
    return f"kontakt-{uuid.uuid4().hex[:10]}@example.org"


async def create_alliance(platform: Platform, email: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=platform.directory.url) as client:
        response = await client.post(
            "/alliances", json=new_alliance(email), headers=platform.admin_headers
        )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def consumed(platform: Platform, outcome: str) -> float:
    """How many records notifications has consumed with `outcome`."""
    async with httpx.AsyncClient(base_url=platform.notifications.url) as client:
        text = (await client.get("/metrics")).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("lobu_messages_consumed_total{") and f'outcome="{outcome}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_created_alliance_is_published_keyed_by_id_and_its_contact_is_welcomed(
    platform: Platform,
) -> None:
    email = unique_email()
    alliance = await create_alliance(platform, email)

    mails = await eventually(
        lambda: platform.mails_to(email), timeout=60, what=f"a welcome mail to {email}"
    )
    assert len(mails) == 1
    assert "Willkommen" in str(mails[0]["Subject"])
    plain = mails[0].get_body(preferencelist=("plain",))  # multipart/alternative
    assert plain is not None
    body = plain.get_content()
    assert "Jörg Weiß" in body
    assert str(alliance["name"]) in body

    records = await read_topic(platform.kafka.bootstrap_servers, DIRECTORY_ALLIANCE)
    mine = [record for record in records if record.key == str(alliance["id"]).encode()]
    assert len(mine) == 1
    assert mine[0].headers["ce_type"] == b"lobu.directory.alliance.created.v1"
    assert mine[0].headers["ce_id"]
    assert mine[0].headers["ce_source"] == b"/lobu/directory"
    snapshot = json.loads(mine[0].value or b"{}")
    assert snapshot["id"] == alliance["id"]
    assert snapshot["version"] == 1
    # Personal data never travels on the public topic (other tests share the topic,
    # and public data may hold an "@", e.g. a Mastodon address: look for ours).
    assert "contacts" not in snapshot
    assert all(email.encode() not in (record.value or b"") for record in records)
    assert not any("contacts" in json_object(record.value) for record in records)


async def test_contacts_travel_only_on_the_internal_topic(platform: Platform) -> None:
    email = unique_email()
    alliance = await create_alliance(platform, email)

    key = str(alliance["id"]).encode()
    records = await read_topic(
        platform.kafka.bootstrap_servers, DIRECTORY_ALLIANCE_CONTACTS,
        until=lambda seen: any(record.key == key for record in seen),
    )  # fmt: skip
    mine = [record for record in records if record.key == key]
    assert len(mine) == 1
    assert email in (mine[0].value or b"").decode()


async def test_alliance_created_while_kafka_is_down_is_mailed_exactly_once_when_it_is_back(
    platform: Platform,
) -> None:
    platform.kafka.require_restart()
    email = unique_email()
    platform.kafka.stop()
    try:
        alliance = await create_alliance(platform, email)  # accepted: waits in the outbox
        async with httpx.AsyncClient(base_url=platform.directory.url) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["checks"]["kafka"] == "unreachable"
            # The directory keeps serving reads during the outage.
            assert (await client.get(f"/alliances/{alliance['id']}")).status_code == 200
        assert platform.mails_to(email) == []  # nothing can travel while Kafka is down
    finally:
        platform.kafka.start()

    await eventually(lambda: platform.mails_to(email), timeout=90, what="the delayed mail")
    await platform.settle()  # everything published and consumed: would a second copy arrive?
    assert len(platform.mails_to(email)) == 1
    async with httpx.AsyncClient(base_url=platform.notifications.url) as client:
        log = await client.get(
            "/deliveries", params={"alliance_id": alliance["id"]}, headers=platform.admin_headers
        )
    # The contact's welcome, and the Servicebüro's notice of the new entry (routing table).
    statuses = {item["template"]: item["status"] for item in log.json()["items"]}
    assert statuses == {"welcome": "sent", "alliance_entered": "sent"}
    assert [item["recipient"] for item in log.json()["items"] if item["template"] == "welcome"] == [
        email
    ]


async def test_the_same_event_delivered_twice_sends_one_email(platform: Platform) -> None:
    email = unique_email()
    alliance = await create_alliance(platform, email)
    await eventually(lambda: platform.mails_to(email), timeout=60, what="the first mail")
    duplicates_before = await consumed(platform, "duplicate")

    key = str(alliance["id"]).encode()
    for topic in (DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS):
        original = next(
            record
            for record in await read_topic(platform.kafka.bootstrap_servers, topic)
            if record.key == key
        )
        await publish_raw(
            platform.kafka.bootstrap_servers,
            topic,
            value=original.value or b"",
            key=original.key,
            headers=original.headers,
        )

    async def both_duplicates_seen() -> bool:
        return await consumed(platform, "duplicate") >= duplicates_before + 2

    await eventually(both_duplicates_seen, timeout=60, what="the duplicates to be consumed")
    await platform.settle()
    assert len(platform.mails_to(email)) == 1


async def test_a_malformed_message_is_dead_lettered_and_the_consumer_goes_on(
    platform: Platform,
) -> None:
    poison_key = f"poison-{uuid.uuid4().hex[:8]}".encode()
    await publish_raw(
        platform.kafka.bootstrap_servers,
        DIRECTORY_ALLIANCE,
        value=b"{this is not json",
        key=poison_key,
        headers={"ce_type": b"lobu.directory.alliance.created.v1"},
    )
    wrong_data_key = f"invalid-{uuid.uuid4().hex[:8]}".encode()
    await publish_raw(
        platform.kafka.bootstrap_servers,
        DIRECTORY_ALLIANCE,
        value=json.dumps({"id": "x", "state": "XX"}).encode(),
        key=wrong_data_key,
        headers={
            "ce_id": uuid.uuid4().hex.encode(),
            "ce_source": b"/tests",
            "ce_type": b"lobu.directory.alliance.created.v1",
            "ce_specversion": b"1.0",
            "content-type": b"application/json",
        },
    )

    email = unique_email()
    await create_alliance(platform, email)
    await eventually(lambda: platform.mails_to(email), timeout=60, what="the next mail")

    letters = await read_topic(
        platform.kafka.bootstrap_servers, f"{DIRECTORY_ALLIANCE}.dlq",
        until=lambda seen: {poison_key, wrong_data_key} <= {letter.key for letter in seen},
    )  # fmt: skip
    by_key = {letter.key: letter for letter in letters}
    assert by_key[poison_key].headers["lobu-dlq-reason"] == b"malformed"
    assert by_key[poison_key].value == b"{this is not json"
    assert by_key[wrong_data_key].headers["lobu-dlq-reason"] == b"invalid"
    assert b"state" in by_key[wrong_data_key].headers["lobu-dlq-error"]
    assert by_key[poison_key].headers["lobu-dlq-original-topic"] == DIRECTORY_ALLIANCE.encode()
