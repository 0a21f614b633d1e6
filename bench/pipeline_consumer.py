"""How fast does the reliable consumer (inbox, manual commits) take records off Kafka?

The same `--events` CloudEvents are put on one topic first; then two consumer groups
read all of them, in the same run, from the same broker, into the same PostgreSQL
server:

- the floor: a plain `AIOKafkaConsumer` (auto-commit) that does one INSERT per record
  on a plain asyncpg connection;
- lobu: `ReliableConsumer` subscribed through FastStream exactly as the services
  subscribe (`lobu.shared.consumer.subscribe`): the envelope decoded and checked, the
  inbox claim and the same INSERT in one transaction, the offset committed after it.

The figure is records per second of lobu over the floor:
`FIGURE pipeline.consumer.ratio_to_floor`.

    PYTHONPATH=. .venv/bin/python bench/pipeline_consumer.py
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

import lobu.shared.inbox  # noqa: F401  # registers the table
from bench.outbox_relay import baseline as bare_producer
from lobu.shared.consumer import ReliableConsumer, subscribe
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope
from lobu.shared.kafka import create_broker
from lobu.shared.logs import configure_logging
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import create_topics
from tests.support.kafka_server import kafka_server
from tests.support.postgres_server import postgres_server

EFFECTS = "CREATE TABLE IF NOT EXISTS {table} (event_id varchar(64) PRIMARY KEY, name text)"


def _plain_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://")


async def fill(bootstrap: str, topic: str, count: int) -> None:
    """Put `count` alliance-created events on `topic` (the relay benchmark's bare producer)."""
    await bare_producer(bootstrap, topic, count)


async def floor(bootstrap: str, database_url: str, topic: str, count: int) -> float:
    """Seconds for aiokafka plus one asyncpg INSERT per record to take all `count`."""
    connection = await asyncpg.connect(_plain_url(database_url))
    await connection.execute(EFFECTS.format(table="floor_effects"))
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"floor-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", enable_auto_commit=True,
    )  # fmt: skip
    await consumer.start()
    try:
        insert = await connection.prepare(
            "INSERT INTO floor_effects VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        seen = 0
        started = 0.0
        async for record in consumer:
            if not seen:  # the clock starts with the first record (after joining the group)
                started = time.perf_counter()
            headers = dict(record.headers or ())
            await insert.fetch(headers["ce_id"].decode(), record.key.decode() if record.key else "")
            seen += 1
            if seen == count:
                return time.perf_counter() - started
        raise RuntimeError("the topic ended early")
    finally:
        await consumer.stop()
        await connection.close()


async def reliable(
    bootstrap: str, database_url: str, topic: str, count: int, workers: int = 1
) -> float:
    """Seconds for lobu's reliable consumer, subscribed as services subscribe, to take all."""
    metrics = ServiceMetrics(service="bench")
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
        await connection.execute(text(EFFECTS.format(table="lobu_effects")))
    sessions = create_session_factory(engine)
    done = asyncio.Event()
    handled = 0
    first: list[float] = []

    async def on_created(session: AsyncSession, envelope: Envelope) -> None:
        nonlocal handled
        await session.execute(
            text("INSERT INTO lobu_effects VALUES (:id, :name)"),
            {"id": envelope.id, "name": envelope.subject},
        )
        if not first:
            first.append(time.perf_counter())
        handled += 1
        if handled == count:
            done.set()

    broker = create_broker(bootstrap_servers=bootstrap, service="bench", metrics=metrics)

    async def publish(_topic: str, _record: object) -> None:
        raise RuntimeError("no dead letters expected in the benchmark")

    consumer = ReliableConsumer(
        name=f"lobu-{uuid.uuid4().hex[:6]}", sessions=sessions,
        handlers={ALLIANCE_CREATED: on_created}, publish=publish, metrics=metrics,
    )  # fmt: skip
    subscribe(broker, consumer, [topic], workers_per_topic=workers)
    await broker.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=600)
        # Like the floor's, the clock starts with the first record (after joining the group).
        return time.perf_counter() - first[0]
    finally:
        await broker.stop()
        await engine.dispose()


async def clean(database_url: str) -> None:
    """Empty the effects and the inbox, so that every round writes into the same tables."""
    connection = await asyncpg.connect(_plain_url(database_url))
    try:
        await connection.execute("TRUNCATE floor_effects, lobu_effects, inbox")
    finally:
        await connection.close()


async def run(count: int, rounds: int, workers: int, profile: str | None = None) -> None:
    with TemporaryDirectory() as folder, ExitStack() as stack:
        kafka = stack.enter_context(kafka_server(Path(folder) / "kafka"))
        postgres = stack.enter_context(postgres_server())
        database_url = stack.enter_context(postgres.database("bench_consumer"))
        topic = f"bench.consume.{uuid.uuid4().hex[:6]}"
        await create_topics(kafka.bootstrap_servers, topic, partitions=3)
        await fill(kafka.bootstrap_servers, topic, count)
        print(f"records: {count} on 3 partitions; Kafka: {kafka.how}; PostgreSQL: {postgres.how}")
        ratios = []
        for number in range(1, rounds + 1):
            base = await floor(kafka.bootstrap_servers, database_url, topic, count)
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            lobu = await reliable(kafka.bootstrap_servers, database_url, topic, count, workers)
            if profiler and profile:
                profiler.disable()
                profiler.dump_stats(profile)
            await clean(database_url)
            ratios.append(base / lobu)
            print(
                f"round {number}: aiokafka + one INSERT {count / base:8.0f} records/s   "
                f"reliable consumer {count / lobu:8.0f} records/s   {base / lobu:4.2f} of floor"
            )
        print(f"FIGURE pipeline.consumer.ratio_to_floor {min(ratios):.2f} x")


def main() -> None:
    configure_logging(service="bench", level="WARNING", json=False)  # as a service logs
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1, help="Kafka consumers on the topic")
    parser.add_argument("--profile", help="write a cProfile of the reliable consumer here")
    args = parser.parse_args()
    asyncio.run(run(args.events, args.rounds, args.workers, args.profile))


if __name__ == "__main__":
    main()
