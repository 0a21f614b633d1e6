"""Operators replay dead letters to the topic they came from, as they first arrived.

On the real broker, after real failures of a real ReliableConsumer that keeps failing:
a replay ends, replays each letter once, `--limit N` replays N and the next run the
rest; what breaks its topic's contract stays on the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from lobu.shared.cli import main as lobu_cli
from lobu.shared.consumer import ReliableConsumer
from lobu.shared.contracts import EventDefinition
from lobu.shared.contracts.directory import ALLIANCE_DELETED, DIRECTORY_EVENTS
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.dead_letter import dead_letter_record
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.replay import ReplaySummary, read_dead_letters, replay_dead_letters
from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.integration.consumer_harness import (
    create_consumer_tables,
    create_topics,
    raw_publisher,
    running_consumer,
)
from tests.support.kafka_probe import publish_raw, read_topic
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

# Unusual bytes (NUL, a combining accent, a line separator, an emoji) that a replay
# must carry back unchanged. Bytes that are not UTF-8 at all make the record
# malformed for the CloudEvents binding: see test_consumer_on_kafka_and_postgres.py.
ODD_HEADER = ("x-trace", "\x00e\u0301\u2028\U0001f600".encode())


def contracts_on(topic: str) -> Mapping[str, EventDefinition]:
    """The registry, with the public topic's types moved to a test topic of our own."""
    return {
        definition.type: replace(definition, topic=topic)
        for definition in DIRECTORY_EVENTS
        if definition.topic == DIRECTORY_ALLIANCE
    }


def deleted_event(number: int) -> KafkaRecord:
    """A valid `alliance.deleted` record, with a header that is not text."""
    event = Envelope(
        type=ALLIANCE_DELETED,
        source="/lobu/test",
        subject=f"alliance-{number}",
        data={
            "id": f"alliance-{number}",
            "version": 2,
            "deleted_at": datetime.now(UTC).isoformat(),
        },
    )
    record = to_kafka_record(event)
    return replace(record, headers={**record.headers, ODD_HEADER[0]: ODD_HEADER[1]})


async def always_fails(*_: object) -> None:
    raise RuntimeError("the handler still fails")


async def dead_letter_count(kafka: KafkaServer, topic: str) -> int:
    return len(await read_dead_letters(f"{topic}.dlq", bootstrap_servers=kafka.bootstrap_servers))


async def replay(kafka: KafkaServer, topic: str, **options: object) -> ReplaySummary:
    # Before the fix a replay of letters that fail again never ended: bound it.
    return await asyncio.wait_for(
        replay_dead_letters(
            f"{topic}.dlq",
            bootstrap_servers=kafka.bootstrap_servers,
            contracts=contracts_on(topic),
            **options,  # type: ignore[arg-type]
        ),
        timeout=120,
    )


@pytest_asyncio.fixture(loop_scope="session")
async def failing_topic(kafka: KafkaServer, tmp_path: Path) -> AsyncIterator[str]:
    """A topic whose real ReliableConsumer fails every record (one attempt each)."""
    topic = f"test.replay-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, topic, f"{topic}.dlq")
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/consumer.db")
    await create_consumer_tables(engine)
    async with raw_publisher(kafka.bootstrap_servers) as publish:
        consumer = ReliableConsumer(
            name=f"test-replay-{uuid.uuid4().hex[:6]}",
            sessions=create_session_factory(engine),
            handlers={ALLIANCE_DELETED: always_fails},
            publish=publish,
            metrics=ServiceMetrics(service="test"),
            max_attempts=1,
            retry_backoff_seconds=0,
        )
        async with running_consumer(kafka.bootstrap_servers, consumer, [topic]):
            yield topic
    await engine.dispose()


@pytest.mark.asyncio(loop_scope="session")
async def test_a_replay_of_letters_that_fail_again_ends_and_replays_each_letter_once(
    kafka: KafkaServer, failing_topic: str
) -> None:
    topic = failing_topic
    originals = [deleted_event(number) for number in range(6)]
    for record in originals:
        await publish_raw(
            kafka.bootstrap_servers, topic, value=record.value, key=record.key,
            headers=record.headers,
        )  # fmt: skip
    await eventually(
        lambda: _count_is(kafka, topic, 6), timeout=60, what="six letters on the dead-letter topic"
    )

    first = await replay(kafka, topic, limit=2)

    assert len(first.replayed) == 2
    assert first.left == 4
    # The consumer fails the two again: two new letters, after the end the first run saw.
    await eventually(lambda: _count_is(kafka, topic, 8), timeout=60, what="eight letters")

    second = await replay(kafka, topic)

    assert len(second.replayed) == 6  # the four left, and the two new copies
    assert second.left == 0
    assert not set(first.replayed) & set(second.replayed)
    letters_then = {
        (letter["partition"], letter["offset"])
        for letter in await read_dead_letters(
            f"{topic}.dlq", bootstrap_servers=kafka.bootstrap_servers
        )
        if letter["offset"] < second.end_offsets[letter["partition"]]
    }
    assert set(first.replayed) | set(second.replayed) == letters_then
    # The six replayed by the second run fail again, once each: no loop, no more.
    await eventually(lambda: _count_is(kafka, topic, 14), timeout=60, what="fourteen letters")
    records = await read_topic(kafka.bootstrap_servers, topic)
    assert len(records) == 6 + 2 + 6
    by_id = {record.headers["ce_id"]: record for record in originals}
    for seen in records:
        sent = by_id[seen.headers["ce_id"]]
        assert (seen.key, seen.value, seen.headers) == (sent.key, sent.value, sent.headers)


async def _count_is(kafka: KafkaServer, topic: str, expected: int) -> bool:
    count = await dead_letter_count(kafka, topic)
    assert count <= expected, f"{count} letters on {topic}.dlq, more than the {expected} expected"
    return count == expected


def _letter(topic: str, record: KafkaRecord, offset: int) -> KafkaRecord:
    return dead_letter_record(
        headers=record.headers.items(), key=record.key, value=record.value,
        consumer="notifications", topic=topic, partition=0, offset=offset,
        reason="failed", error="RuntimeError",
    )  # fmt: skip


@pytest.mark.asyncio(loop_scope="session")
async def test_a_letter_that_breaks_its_topics_contract_is_not_replayed_and_stays(
    kafka: KafkaServer,
) -> None:
    topic = f"test.replay-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, topic, f"{topic}.dlq", partitions=1)
    valid = deleted_event(1)
    broken = replace(valid, value=json.dumps({"id": "alliance-1", "version": 0}).encode())
    not_an_event = KafkaRecord(headers={}, key=b"alliance-1", value=b"<xml/>")
    letters = [
        _letter(topic, broken, 1),
        _letter(topic, not_an_event, 2),
        _letter("directory.alliance-contacts", valid, 3),  # a type of another topic
        _letter(topic, valid, 4),
    ]
    for letter in letters:
        await publish_raw(
            kafka.bootstrap_servers, f"{topic}.dlq", value=letter.value, key=letter.key,
            headers=letter.headers,
        )  # fmt: skip

    summary = await replay(kafka, topic)

    assert summary.replayed == [(0, 3)]
    assert [letter.offset for letter in summary.refused] == [0, 1, 2]
    assert "breaks the contract" in summary.refused[0].reason
    assert "version" in summary.refused[0].reason
    assert "not a CloudEvent" in summary.refused[1].reason
    assert "belongs on" in summary.refused[2].reason
    assert summary.left == 0
    records = await read_topic(kafka.bootstrap_servers, topic)
    assert [(record.key, record.value) for record in records] == [(valid.key, valid.value)]
    assert await dead_letter_count(kafka, topic) == 4  # the refused ones are still there
    again = await replay(kafka, topic)
    assert (again.replayed, again.refused) == ([], [])


@pytest.mark.asyncio(loop_scope="session")
async def test_the_cli_replays_by_the_real_registry_and_says_what_it_left(
    kafka: KafkaServer, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"test.replay-{uuid.uuid4().hex[:8]}"
    letter = _letter(topic, deleted_event(1), 7)
    await publish_raw(
        kafka.bootstrap_servers, f"{topic}.dlq", value=letter.value, key=letter.key,
        headers=letter.headers,
    )  # fmt: skip
    arguments = ["dlq", "replay", f"{topic}.dlq", "--bootstrap", kafka.bootstrap_servers]

    code = await asyncio.to_thread(lobu_cli, arguments)

    output = capsys.readouterr()
    assert code == 1  # something was refused
    assert f"belongs on {DIRECTORY_ALLIANCE}, not on {topic}" in output.err
    assert "replayed 0 dead letters" in output.out
    assert "refused 1" in output.out


def test_the_cli_prints_a_token_for_each_role(capsys: pytest.CaptureFixture[str]) -> None:
    assert lobu_cli(["token", "--role", "admin"]) == 0
    assert capsys.readouterr().out.count(".") == 2  # header.payload.signature
    assert lobu_cli(["token", "--role", "alliance"]) == 2  # an alliance token needs its id
    assert lobu_cli(["token", "--role", "alliance", "--alliance-id", "a-1"]) == 0
