"""A subscriber that keeps its own replica of the alliance directory, in SQLite.

It reads the public topic `directory.alliance` with a plain aiokafka consumer and
writes one row per alliance into a table of its own. Copy it and replace SQLite
with your database; the rules that matter stay the same:

* Kafka delivers **at least once**: after a crash or a rebalance you will see
  records again. Every created/updated/snapshot event carries the alliance's whole
  public record and its `version`, so a replica keeps the highest version and drops
  anything older or equal. That makes every event idempotent, duplicates included.
* Records of one alliance share its key and therefore its partition, so they arrive
  in order, but across a rebuild, a republish or a replay an *older* event can still
  come after a newer one. The version check covers that too.
* A deletion leaves a **tombstone** (the row stays, `deleted = 1`, with the deletion's
  version), so that an older update arriving later cannot bring the alliance back.
* The Kafka offset is committed only **after** the database transaction committed.
  If the process dies in between, the records come again and are dropped as
  duplicates; the other order (offset first) could lose them.
* A record that is not a valid event is logged and skipped rather than crashing the
  subscriber forever on the same offset. (lobu's own services put such records on a
  dead-letter topic, `<topic>.dlq`; do that if you cannot afford to lose one.)

Run it (with `make run` up in another terminal):

    .venv/bin/python examples/alliance_replica/replica.py \
        --bootstrap 127.0.0.1:9092 --database replica.db --group my-team-replica

`--once` stops when the topic is drained (no new records for 2 s), for tests and demos.
See docs/subscribing.md for the topic's guarantees and contract rules.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError
from pydantic import ValidationError

from lobu.shared.contracts.base import read_event_data
from lobu.shared.contracts.directory import (
    ALLIANCE_CREATED,
    ALLIANCE_DELETED,
    ALLIANCE_SNAPSHOT,
    ALLIANCE_UPDATED,
    AllianceCreated,
    AllianceDeleted,
    AllianceSnapshot,
    AllianceSnapshotPublished,
    AllianceUpdated,
)
from lobu.shared.envelope import Envelope, EnvelopeError, from_kafka_record

# Without the lobu packages, decode and validate the same way with the CloudEvents SDK
# (`pip install aiokafka cloudevents jsonschema`) and the JSON Schemas committed in
# lobu's `shared/schemas/` (one file per type, e.g. lobu.directory.alliance.updated.v1.json):
#
#     from cloudevents.core.bindings import kafka as ce_kafka
#     import jsonschema
#
#     headers = dict(record.headers)
#     # The SDK invents a random id when ce_id is missing; insist on the real attributes.
#     if not all(headers.get(h) for h in ("ce_id", "ce_source", "ce_type", "ce_specversion")):
#         raise ValueError("not a CloudEvent")
#     if headers["ce_specversion"] != b"1.0":
#         raise ValueError("unsupported specversion")
#     event = ce_kafka.from_binary_event(
#         ce_kafka.KafkaMessage(headers=headers, key=record.key, value=record.value)
#     )
#     data = event.get_data()  # a dict, parsed from the JSON value
#     schema = SCHEMAS.get(event.get_type())  # {type name: the loaded schema file}
#     if schema is not None:
#         # The committed schemas say "additionalProperties": false (what producers may
#         # send today). A reader must accept fields added later, so relax that:
#         jsonschema.validate(data, {**schema, "additionalProperties": True})
#
# `event.get_id()`, `event.get_type()`, `event.get_subject()` (the alliance id) and
# `event.get_extension("correlationid")` give the same attributes as the Envelope below.

DEFAULT_TOPIC = "directory.alliance"
# Types that carry the whole public record, and the contract to validate each with.
# `snapshot` is sent when the Servicebüro republishes every alliance (POST
# /admin/republish) so that new subscribers can build a replica; its data is the same
# as `created`. `read_event_data` ignores fields this version of the contracts does
# not know yet.
FULL_RECORD_TYPES: dict[str, type[AllianceSnapshot]] = {
    ALLIANCE_CREATED: AllianceCreated,
    ALLIANCE_UPDATED: AllianceUpdated,
    ALLIANCE_SNAPSHOT: AllianceSnapshotPublished,
}
# Event metadata, not part of the alliance's record.
NOT_RECORD_FIELDS = frozenset({"changed_fields"})

DRAIN_IDLE_SECONDS = 2.0  # --once: stop after this long without new records
GIVE_UP_WITHOUT_PARTITIONS_SECONDS = 30.0  # --once: the topic does not exist, say

SCHEMA = """
CREATE TABLE IF NOT EXISTS alliances (
    id          TEXT PRIMARY KEY,
    version     INTEGER NOT NULL,   -- the highest version seen, also for tombstones
    name        TEXT,               -- NULL once deleted
    state       TEXT,
    city        TEXT,
    postal_code TEXT,
    deleted     INTEGER NOT NULL DEFAULT 0,
    record_json TEXT                -- the whole public record as received (all fields)
)
"""

# Insert, or overwrite only when the incoming version is newer. Older or equal
# versions (duplicates, replays, a late update after a delete) change nothing.
UPSERT_RECORD = """
INSERT INTO alliances (id, version, name, state, city, postal_code, deleted, record_json)
VALUES (:id, :version, :name, :state, :city, :postal_code, 0, :record_json)
ON CONFLICT (id) DO UPDATE SET
    version = excluded.version, name = excluded.name, state = excluded.state,
    city = excluded.city, postal_code = excluded.postal_code, deleted = 0,
    record_json = excluded.record_json
WHERE excluded.version > alliances.version
"""

# A tombstone: forget the public data, keep the id and the deletion's version.
UPSERT_TOMBSTONE = """
INSERT INTO alliances (id, version, name, state, city, postal_code, deleted, record_json)
VALUES (:id, :version, NULL, NULL, NULL, NULL, 1, NULL)
ON CONFLICT (id) DO UPDATE SET
    version = excluded.version, name = NULL, state = NULL, city = NULL,
    postal_code = NULL, deleted = 1, record_json = NULL
WHERE excluded.version > alliances.version
"""

log = logging.getLogger("alliance_replica")


@dataclass
class RunStats:
    """What one `run` did with the records it read."""

    records: int = 0  # records read from Kafka
    applied: int = 0  # changed the replica
    stale: int = 0  # valid, but not newer than the replica (duplicates, late arrivals)
    unknown: int = 0  # a type this subscriber does not handle (e.g. a future .v2)
    invalid: int = 0  # not a CloudEvent, or data that breaks the contract: logged, skipped


def open_replica(database: str) -> sqlite3.Connection:
    """Open (and create if needed) the SQLite replica."""
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")  # readers do not block the subscriber
    connection.execute(SCHEMA)
    connection.commit()
    return connection


def apply_event(connection: sqlite3.Connection, envelope: Envelope) -> str:
    """Apply one decoded event inside the caller's transaction; say what happened.

    Raises pydantic.ValidationError when the data breaks the contract.
    """
    if envelope.type in FULL_RECORD_TYPES:
        alliance = read_event_data(FULL_RECORD_TYPES[envelope.type], envelope.data)
        # Keep the record as received, including optional fields added to the contract
        # after this code was written: the typed columns are what we query by, the JSON
        # is everything else. (Validation above already checked the fields we rely on.)
        record = {k: v for k, v in envelope.data.items() if k not in NOT_RECORD_FIELDS}
        cursor = connection.execute(
            UPSERT_RECORD,
            {
                "id": alliance.id,
                "version": alliance.version,
                "name": alliance.name,
                "state": alliance.state,
                "city": alliance.city,
                "postal_code": alliance.postal_code,
                "record_json": json.dumps(record, ensure_ascii=False, sort_keys=True),
            },
        )
    elif envelope.type == ALLIANCE_DELETED:
        deleted = read_event_data(AllianceDeleted, envelope.data)
        cursor = connection.execute(
            UPSERT_TOMBSTONE, {"id": deleted.id, "version": deleted.version}
        )
    else:
        # Another type on the topic, e.g. a `.v2` published side by side with `.v1`
        # during a migration: not ours to handle (yet).
        return "unknown"
    return "applied" if cursor.rowcount == 1 else "stale"


def handle_record(connection: sqlite3.Connection, record: Any, stats: RunStats) -> None:
    """Decode, validate and apply one Kafka record; skip (and log) what is not an event."""
    stats.records += 1
    where = f"{record.topic}[{record.partition}]@{record.offset}"
    try:
        envelope = from_kafka_record(record.headers or (), record.key, record.value)
    except EnvelopeError as error:
        stats.invalid += 1
        log.warning("skipped %s: not a CloudEvent: %s", where, error)
        return
    try:
        outcome = apply_event(connection, envelope)
    except ValidationError as error:
        stats.invalid += 1
        log.warning(
            "skipped %s: event %s (%s) breaks its contract: %s",
            where,
            envelope.id,
            envelope.type,
            error.errors(include_url=False),
        )
        return
    if outcome == "applied":
        stats.applied += 1
    elif outcome == "stale":
        stats.stale += 1
    else:
        stats.unknown += 1
    log.info(
        "%s %s %s (event %s, correlation %s)",
        where,
        outcome,
        envelope.type,
        envelope.id,
        envelope.correlation_id or "-",
    )


async def _drained(consumer: AIOKafkaConsumer) -> bool:
    """True when partitions are assigned and we have read up to their end."""
    assignment: set[TopicPartition] = consumer.assignment()
    if not assignment:
        return False
    ends: Mapping[TopicPartition, int] = await consumer.end_offsets(list(assignment))
    for partition in assignment:
        if await consumer.position(partition) < ends[partition]:
            return False
    return True


async def run(
    bootstrap: str,
    database: str,
    group: str,
    *,
    once: bool,
    topic: str = DEFAULT_TOPIC,
    idle_seconds: float = DRAIN_IDLE_SECONDS,
) -> RunStats:
    """Keep the replica in `database` up to date from `topic`, as consumer group `group`.

    Runs until cancelled, or with `once=True` until the topic is drained (nothing new
    for `idle_seconds` and every assigned partition read to its end).
    """
    stats = RunStats()
    connection = open_replica(database)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,  # the group's committed offsets are where a restart resumes
        enable_auto_commit=False,  # we commit ourselves, after the database did
        auto_offset_reset="earliest",  # a new group reads the topic from the beginning
    )
    await consumer.start()
    try:
        started = last_record = time.monotonic()
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for partition, records in batches.items():
                # One SQLite transaction per partition batch: `with connection` commits
                # when the block ends and rolls back if it raises (the process then
                # stops without committing the offset, and the batch comes again).
                # sqlite3 blocks the event loop briefly; with an async driver
                # (asyncpg, aiosqlite) the shape is the same.
                with connection:
                    for record in records:
                        handle_record(connection, record, stats)
                # Only now is the effect durable: move the group's offset past the batch.
                try:
                    await consumer.commit({partition: records[-1].offset + 1})
                except CommitFailedError as error:
                    # A rebalance gave the partition to another member; it will read
                    # these records again and drop them as duplicates. Nothing is lost.
                    log.warning("offset commit for %s failed: %s", partition, error)
            if batches:
                last_record = time.monotonic()
                continue
            if not once:
                continue
            idle = time.monotonic() - last_record
            if idle >= idle_seconds and await _drained(consumer):
                break
            if not consumer.assignment() and time.monotonic() - started > max(
                idle_seconds, GIVE_UP_WITHOUT_PARTITIONS_SECONDS
            ):
                log.warning("no partitions of %s were assigned; giving up", topic)
                break
    finally:
        await consumer.stop()
        connection.close()
    log.info("stopped: %s", stats)
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Keep a SQLite replica of the alliance directory from Kafka."
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--database", default="replica.db", help="the SQLite file to keep")
    parser.add_argument("--group", required=True, help="the Kafka consumer group id (yours)")
    parser.add_argument("--topic", default=DEFAULT_TOPIC, help="default: %(default)s")
    parser.add_argument("--once", action="store_true", help="stop when the topic is drained")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(message)s")
    # Ctrl-C stops the consumer cleanly; records not yet committed come again next time.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            run(args.bootstrap, args.database, args.group, once=args.once, topic=args.topic)
        )


if __name__ == "__main__":
    main()
