"""A service creates the declared topics before its subscribers start, not on first publish.

A consumer that subscribes to a topic that does not exist yet sees it only at its next
metadata refresh, minutes later: on a fresh broker, a contact message published after
notifications had started stayed unread for five minutes (a flaky end-to-end test).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from lobu.shared.topic_declarations import declared_topics, ensure_topics
from lobu.shared.topics import DIRECTORY_ALLIANCE_CONTACTS
from tests.integration.conftest import connected
from tests.support.kafka_server import kafka_server

pytestmark = pytest.mark.integration


@pytest.mark.asyncio(loop_scope="session")
async def test_connecting_creates_every_declared_topic_on_a_fresh_broker(tmp_path: Path) -> None:
    with kafka_server(tmp_path / "fresh-kafka") as fresh:
        connection = await connected(fresh, "topics-test")
        try:
            admin = AIOKafkaAdminClient(bootstrap_servers=fresh.bootstrap_servers)
            await admin.start()
            try:
                existing = set(await admin.list_topics())
                declared = {spec.name: spec for spec in declared_topics()}
                assert set(declared) <= existing
                described = await admin.describe_topics(list(declared))
                assert {t["topic"]: len(t["partitions"]) for t in described} == {
                    name: spec.partitions for name, spec in declared.items()
                }
                resource = ConfigResource(ConfigResourceType.TOPIC, DIRECTORY_ALLIANCE_CONTACTS)
                [response] = await admin.describe_configs([resource])
                config = {
                    entry[0]: entry[1] for resource in response.resources for entry in resource[4]
                }
                assert config["cleanup.policy"] == "compact"
            finally:
                await admin.close()
            assert await ensure_topics(fresh.bootstrap_servers) == []  # nothing left to create
        finally:
            await connection.stop()
