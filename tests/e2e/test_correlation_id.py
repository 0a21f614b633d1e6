"""A correlation id travels from the HTTP request through Kafka into the consumer's log line."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from lobu.shared.topics import DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS
from tests.e2e.conftest import Platform
from tests.support.kafka_probe import read_topic
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_the_correlation_id_of_a_request_reaches_the_notifications_log_line_of_its_event(
    platform: Platform,
) -> None:
    correlation_id = f"test-{uuid.uuid4()}"
    contact = {"name": "Korbinian Faden", "email": f"k-{uuid.uuid4().hex[:8]}@example.org"}
    async with httpx.AsyncClient(base_url=platform.directory.url, timeout=30) as client:
        response = await client.post(
            "/alliances",
            json={
                "name": f"Bündnis Korrelation {uuid.uuid4().hex[:6]}",
                "state": "SN", "postal_code": "01067", "city": "Dresden",
                "contacts": [contact],
            },
            headers={**platform.admin_headers, "X-Correlation-ID": correlation_id},
        )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.headers["X-Correlation-ID"] == correlation_id
    key = str(response.json()["id"]).encode()

    event_ids = {}
    for topic in (DIRECTORY_ALLIANCE, DIRECTORY_ALLIANCE_CONTACTS):
        records = await read_topic(
            platform.kafka.bootstrap_servers, topic,
            until=lambda seen: any(record.key == key for record in seen),
        )  # fmt: skip
        (record,) = [record for record in records if record.key == key]
        assert record.headers["ce_correlationid"] == correlation_id.encode(), topic
        event_ids[topic] = record.headers["ce_id"].decode()

    def handling_lines() -> dict[str, list[dict[str, Any]]] | None:
        lines = platform.notifications.log_records()
        found = {
            topic: [line for line in lines if line.get("event_id") == event_id]
            for topic, event_id in event_ids.items()
        }
        return found if all(found.values()) else None

    found = await eventually(
        handling_lines, timeout=120, what="notifications' log lines about handling both events"
    )
    for topic, lines in found.items():
        assert all(line["correlation_id"] == correlation_id for line in lines), topic
        assert all(line["service"] == "notifications" for line in lines), topic
