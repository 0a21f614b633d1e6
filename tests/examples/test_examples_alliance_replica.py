"""The example subscriber in examples/alliance_replica keeps a correct replica against real Kafka.

Each test uses a topic of its own, so that nothing else on `directory.alliance`
(other tests, the services) gets in the way.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import sqlite3
import sys
import uuid
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
    AllianceCreated,
    AllianceDeleted,
    AllianceSnapshotPublished,
    AllianceUpdated,
)
from lobu.shared.envelope import Envelope, KafkaRecord, to_kafka_record
from tests.support.kafka_probe import publish_raw
from tests.support.kafka_server import KafkaServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "alliance_replica" / "replica.py"
SOURCE = "/lobu/directory"
NOW = datetime(2026, 5, 15, 9, 30, tzinfo=UTC)
IDLE = 1.0  # seconds without records before run(once=True) stops; the CLI uses 2


def load_example() -> ModuleType:
    """Import replica.py by path: examples/ is not a package."""
    spec = importlib.util.spec_from_file_location("lobu_example_alliance_replica", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


replica = load_example()


@pytest.fixture
def topic() -> str:
    return f"test.examples.alliance-replica.{uuid.uuid4().hex[:10]}"


@pytest.fixture
def group() -> str:
    return f"test-replica-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "replica.db"


def record_data(alliance_id: str, version: int, **changes: Any) -> dict[str, Any]:
    """The required fields of a public alliance record at `version` (the record has more)."""
    return {
        "id": alliance_id,
        "slug": f"goslar-{alliance_id[:8]}",
        "name": "Lokales Bündnis für Familie Goslar",
        "state": "NI",
        "postal_code": "38640",
        "city": "Goslar",
        "version": version,
        "created_at": NOW,
        "updated_at": NOW,
        **changes,
    }


def event(event_type: str, alliance_id: str, data: dict[str, Any]) -> KafkaRecord:
    return to_kafka_record(Envelope(type=event_type, source=SOURCE, subject=alliance_id, data=data))


def created(alliance_id: str, version: int = 1, **changes: Any) -> KafkaRecord:
    data = AllianceCreated(**record_data(alliance_id, version, **changes))
    return event(ALLIANCE_CREATED, alliance_id, data.model_dump(mode="json"))


def snapshot(alliance_id: str, version: int, **changes: Any) -> KafkaRecord:
    data = AllianceSnapshotPublished(**record_data(alliance_id, version, **changes))
    return event(ALLIANCE_SNAPSHOT, alliance_id, data.model_dump(mode="json"))


def updated(alliance_id: str, version: int, **changes: Any) -> KafkaRecord:
    data = AllianceUpdated(
        **record_data(alliance_id, version, **changes), changed_fields=[*changes]
    )
    return event(ALLIANCE_UPDATED, alliance_id, data.model_dump(mode="json"))


def deleted(alliance_id: str, version: int) -> KafkaRecord:
    data = AllianceDeleted(id=alliance_id, version=version, deleted_at=NOW)
    return event(ALLIANCE_DELETED, alliance_id, data.model_dump(mode="json"))


async def publish(kafka: KafkaServer, topic: str, *records: KafkaRecord) -> None:
    for record in records:
        await publish_raw(
            kafka.bootstrap_servers,
            topic,
            value=record.value,
            key=record.key,
            headers=record.headers,
        )


async def replicate(kafka: KafkaServer, topic: str, database: Path, group: str) -> Any:
    """One run of the example until the topic is drained; its RunStats."""
    return await replica.run(
        kafka.bootstrap_servers, str(database), group, once=True, topic=topic, idle_seconds=IDLE
    )


def rows(database: Path) -> dict[str, dict[str, Any]]:
    """The replica's table, by alliance id."""
    with closing(sqlite3.connect(database)) as connection:
        connection.row_factory = sqlite3.Row
        return {row["id"]: dict(row) for row in connection.execute("SELECT * FROM alliances")}


async def test_created_then_newer_update_then_older_update_and_duplicate_are_ignored(
    kafka: KafkaServer, topic: str, database: Path, group: str
) -> None:
    alliance = str(uuid.uuid4())

    await publish(kafka, topic, created(alliance))
    stats = await replicate(kafka, topic, database, group)
    row = rows(database)[alliance]
    assert (stats.records, stats.applied) == (1, 1)
    assert row["version"] == 1
    assert (row["name"], row["state"], row["city"], row["postal_code"]) == (
        "Lokales Bündnis für Familie Goslar",
        "NI",
        "Goslar",
        "38640",
    )
    assert row["deleted"] == 0
    assert json.loads(row["record_json"])["slug"] == f"goslar-{alliance[:8]}"

    newer = updated(alliance, 3, city="Bad Harzburg", postal_code="38667")
    await publish(kafka, topic, newer)
    stats = await replicate(kafka, topic, database, group)
    row = rows(database)[alliance]
    assert (stats.records, stats.applied) == (1, 1)
    assert (row["version"], row["city"], row["postal_code"]) == (3, "Bad Harzburg", "38667")
    assert "changed_fields" not in json.loads(row["record_json"])

    await publish(kafka, topic, updated(alliance, 2, city="Braunlage"))
    stats = await replicate(kafka, topic, database, group)
    assert (stats.records, stats.applied, stats.stale) == (1, 0, 1)
    assert rows(database)[alliance] == row

    await publish(kafka, topic, newer)  # the very same event again (at-least-once)
    stats = await replicate(kafka, topic, database, group)
    assert (stats.records, stats.applied, stats.stale) == (1, 0, 1)
    assert rows(database)[alliance] == row


async def test_deleted_leaves_a_tombstone_that_an_older_update_cannot_resurrect(
    kafka: KafkaServer, topic: str, database: Path, group: str
) -> None:
    alliance = str(uuid.uuid4())

    await publish(kafka, topic, created(alliance), updated(alliance, 2, city="Seesen"))
    await publish(kafka, topic, deleted(alliance, 3))
    await replicate(kafka, topic, database, group)
    tombstone = rows(database)[alliance]
    assert (tombstone["version"], tombstone["deleted"]) == (3, 1)
    assert tombstone["name"] is None
    assert tombstone["record_json"] is None

    await publish(kafka, topic, updated(alliance, 2, city="Seesen"), snapshot(alliance, 2))
    stats = await replicate(kafka, topic, database, group)
    assert (stats.records, stats.applied, stats.stale) == (2, 0, 2)
    assert rows(database)[alliance] == tombstone


async def test_records_that_are_not_valid_events_are_skipped_and_the_next_one_applied(
    kafka: KafkaServer,
    topic: str,
    database: Path,
    group: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alliance = str(uuid.uuid4())
    good = created(alliance)
    breaks_contract = {**json.loads(good.value), "state": "XX"}

    await publish_raw(  # CloudEvents headers, but the value is not JSON
        kafka.bootstrap_servers,
        topic,
        value=b"\x00not json",
        key=alliance.encode(),
        headers=good.headers,
    )
    await publish_raw(  # no CloudEvents headers at all
        kafka.bootstrap_servers, topic, value=b'{"id": "x"}', key=alliance.encode()
    )
    await publish(kafka, topic, event(ALLIANCE_CREATED, alliance, breaks_contract), good)
    with caplog.at_level(logging.WARNING, logger="alliance_replica"):
        stats = await replicate(kafka, topic, database, group)

    assert (stats.records, stats.invalid, stats.applied) == (4, 3, 1)
    assert rows(database)[alliance]["state"] == "NI"
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipped")]
    assert len(skipped) == 3
    assert "not JSON" in skipped[0]
    assert "breaks its contract" in skipped[2]


async def test_snapshots_build_rows_unknown_types_are_ignored_and_new_fields_are_kept(
    kafka: KafkaServer, topic: str, database: Path, group: str
) -> None:
    alliance, other = str(uuid.uuid4()), str(uuid.uuid4())
    # A field added to the contract after the subscriber was written.
    with_new_field = {**json.loads(created(other).value), "added_later": {"x": 1}}

    await publish(
        kafka,
        topic,
        snapshot(alliance, 7, city="Wolfenbüttel", postal_code="38300"),
        event("lobu.directory.alliance.created.v2", alliance, {"id": alliance}),
        event(ALLIANCE_CREATED, other, with_new_field),
    )
    stats = await replicate(kafka, topic, database, group)

    assert (stats.records, stats.applied, stats.unknown, stats.invalid) == (3, 2, 1, 0)
    replicated = rows(database)
    assert (replicated[alliance]["version"], replicated[alliance]["city"]) == (7, "Wolfenbüttel")
    assert json.loads(replicated[other]["record_json"])["added_later"] == {"x": 1}


async def test_offsets_are_committed_and_a_new_group_rebuilds_the_same_replica(
    kafka: KafkaServer, topic: str, tmp_path: Path, group: str
) -> None:
    first, second, gone = (str(uuid.uuid4()) for _ in range(3))
    await publish(
        kafka,
        topic,
        created(first),
        created(second, name="Lokales Bündnis für Familie Celle", city="Celle"),
        updated(first, 2, name="Lokales Bündnis für Familie Hahnenklee"),
        created(gone),
        deleted(gone, 2),
    )
    database = tmp_path / "first.db"
    stats = await replicate(kafka, topic, database, group)
    assert stats.records == 5
    replicated = rows(database)
    assert set(replicated) == {first, second, gone}

    # Forget the replica behind the subscriber's back: the same group resumes after its
    # committed offsets, so nothing is read (nor applied) again.
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("DELETE FROM alliances")
    stats = await replicate(kafka, topic, database, group)
    assert stats.records == 0
    assert rows(database) == {}

    # A new group starts from the earliest offset and rebuilds the same replica.
    rebuilt = tmp_path / "rebuilt.db"
    stats = await replicate(kafka, topic, rebuilt, f"{group}-new")
    assert stats.records == 5
    assert rows(rebuilt) == replicated


async def test_the_command_line_drains_the_topic_once(
    kafka: KafkaServer, topic: str, database: Path, group: str
) -> None:
    alliance = str(uuid.uuid4())
    await publish(kafka, topic, created(alliance))

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--bootstrap",
        kafka.bootstrap_servers,
        "--database",
        str(database),
        "--group",
        group,
        "--topic",
        topic,
        "--once",
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)

    assert process.returncode == 0, output.decode()
    assert rows(database)[alliance]["version"] == 1
