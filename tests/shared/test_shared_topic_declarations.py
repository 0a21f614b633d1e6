"""Topic settings are declared in one place and applied to a broker by `lobu topics apply`."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from lobu.shared.settings import ServiceSettings
from lobu.shared.topic_declarations import TopicSpec, apply_topics, declared_topics
from lobu.shared.topics import ALL_TOPICS, DIRECTORY_ALLIANCE_CONTACTS, dead_letter_topic
from tests.support.kafka_server import KafkaServer
from tests.support.tokens import TEST_AUTH
from tests.support.waiting import eventually


@pytest.mark.unit
def test_every_topic_and_its_dead_letter_topic_is_declared_once() -> None:
    names = [spec.name for spec in declared_topics()]
    expected = {*ALL_TOPICS, *(dead_letter_topic(name) for name in ALL_TOPICS)}
    assert sorted(names) == sorted(expected)


@pytest.mark.unit
def test_only_the_contacts_topic_is_compacted_and_the_inbox_outlives_every_other_topic() -> None:
    specs = {spec.name: spec for spec in declared_topics()}
    contacts = specs.pop(DIRECTORY_ALLIANCE_CONTACTS)
    assert contacts.compacted
    assert contacts.retention is None
    assert contacts.config(min_insync_replicas=2)["cleanup.policy"] == "compact"
    inbox = ServiceSettings(**TEST_AUTH).inbox_retention
    for spec in specs.values():
        assert not spec.compacted
        assert spec.retention is not None
        if not spec.name.endswith(".dlq"):  # dead letters were never handled: no inbox entry
            assert spec.retention < inbox, spec.name


async def configs_of(bootstrap: str, names: list[str]) -> dict[str, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        await admin.close()
    return {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for response in responses
        for resource in response.resources
    }


@pytest.mark.integration
@pytest.mark.asyncio(loop_scope="session")
async def test_apply_creates_what_is_missing_sets_configs_and_never_changes_partitions(
    kafka: KafkaServer,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}."
    specs = [replace(spec, name=prefix + spec.name) for spec in declared_topics()[:4]]
    contacts = prefix + DIRECTORY_ALLIANCE_CONTACTS

    def apply(specs: list[TopicSpec]):  # type: ignore[no-untyped-def]
        return apply_topics(
            kafka.bootstrap_servers, specs, replication_factor=1, min_insync_replicas=1
        )

    first = await apply(specs)
    again = await apply(specs)
    changed = [replace(specs[0], retention=specs[0].retention * 2), *specs[1:]]  # type: ignore[operator]
    third = await apply([*changed[:1], replace(specs[1], partitions=5), *changed[2:]])
    configs = await configs_of(kafka.bootstrap_servers, [contacts])

    async def retention_doubled() -> bool:
        found = await configs_of(kafka.bootstrap_servers, [specs[0].name])
        return found[specs[0].name]["retention.ms"] == str(14 * 86400 * 1000)

    await eventually(retention_doubled, timeout=60, what="the altered retention")  # KRaft: async

    assert sorted(first.created) == sorted(spec.name for spec in specs)
    assert sorted(again.unchanged) == sorted(spec.name for spec in specs)
    assert third.reconfigured == [specs[0].name]
    assert third.partition_differences == [(specs[1].name, 3, 5)]
    assert configs[contacts]["cleanup.policy"] == "compact"
    assert configs[contacts]["retention.ms"] == "-1"
