"""How fast does the outbox relay move events to Kafka, next to a bare producer?

Both sides publish the same number of CloudEvents to the same broker in the same
run: the baseline with a plain aiokafka producer (idempotent, acks=all, no database),
lobu with `add_event` in committed transactions followed by `OutboxRelay` draining
the table. The ratio relay/baseline is the figure to watch; absolute numbers depend
on the machine. Run with `make bench` (it starts Kafka and PostgreSQL itself).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from aiokafka import AIOKafkaProducer
from sqlmodel import SQLModel

import lobu.shared.inbox  # noqa: F401  # registers the table
from lobu.shared.contracts.directory import ALLIANCE_CREATED, AllianceCreated
from lobu.shared.database import create_engine, create_session_factory, transaction
from lobu.shared.envelope import Envelope, to_kafka_record
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import add_event
from lobu.shared.relay import OutboxRelay
from tests.support.kafka_server import kafka_server
from tests.support.postgres_server import postgres_server


def sample(n: int) -> AllianceCreated:
    now = datetime.now(UTC)
    return AllianceCreated(
        id=str(uuid.uuid4()), slug=f"buendnis-{n}", name=f"Lokales Bündnis für Familie {n}",
        state="NI",
        postal_code="30159", city="Hannover", topics=["kinderbetreuung"], version=1,
        created_at=now, updated_at=now,
    )  # fmt: skip


async def baseline(bootstrap: str, topic: str, count: int) -> float:
    """Seconds for a bare idempotent producer to publish `count` events."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        started = time.perf_counter()
        sends = []
        for n in range(count):
            data = sample(n)
            record = to_kafka_record(
                Envelope(type=ALLIANCE_CREATED, source="/bench", subject=data.id,
                         data=data.model_dump(mode="json"))
            )  # fmt: skip
            sends.append(
                await producer.send(topic, record.value, key=record.key,
                                    headers=list(record.headers.items()))
            )  # fmt: skip
        await asyncio.gather(*sends)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def relay(bootstrap: str, database_url: str, count: int, batch: int) -> tuple[float, float]:
    """Seconds to write `count` events in transactions of `batch`, and to relay them all."""
    metrics = ServiceMetrics(service="bench")
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = create_session_factory(engine)
    broker = create_broker(bootstrap_servers=bootstrap, service="bench", metrics=metrics)
    kafka = KafkaConnection(broker, bootstrap_servers=bootstrap, metrics=metrics)
    kafka.start()
    await kafka.wait_connected()
    outbox_relay = OutboxRelay(sessions, kafka.publish, metrics=metrics)
    try:
        started = time.perf_counter()
        for first in range(0, count, batch):
            async with transaction(sessions) as session:
                for n in range(first, min(first + batch, count)):
                    data = sample(n)
                    add_event(session, event_type=ALLIANCE_CREATED, source="/bench",
                              subject=data.id, data=data)  # fmt: skip
        written = time.perf_counter() - started
        started = time.perf_counter()
        while await outbox_relay.publish_pending():
            pass
        return written, time.perf_counter() - started
    finally:
        await kafka.stop()
        await engine.dispose()


async def run(count: int) -> None:
    with TemporaryDirectory() as folder, ExitStack() as stack:
        kafka = stack.enter_context(kafka_server(Path(folder) / "kafka"))
        postgres = stack.enter_context(postgres_server())
        databases = {
            "sqlite": f"sqlite+aiosqlite:///{folder}/bench.db",
            "postgresql": stack.enter_context(postgres.database("bench")),
        }
        topic = f"bench.{uuid.uuid4().hex[:6]}"
        await baseline(kafka.bootstrap_servers, topic, 200)  # warm-up: topic, metadata
        base = await baseline(kafka.bootstrap_servers, topic, count)
        print(f"events: {count}; Kafka: {kafka.how}; PostgreSQL: {postgres.how}")
        print(f"baseline  bare aiokafka producer          {count / base:9.0f} events/s")
        ratios = {}
        for name, url in databases.items():
            written, relayed = await relay(kafka.bootstrap_servers, url, count, batch=50)
            ratios[name] = base / relayed
            print(
                f"{name:10s} write (50 per transaction)  {count / written:9.0f} events/s\n"
                f"{name:10s} outbox relay to Kafka       {count / relayed:9.0f} events/s"
                f"   {base / relayed:4.2f} of baseline"
            )
        print(f"FIGURE pipeline.relay.ratio_to_floor {ratios['postgresql']:.2f} x")
        print(f"FIGURE pipeline.relay.sqlite.ratio_to_floor {ratios['sqlite']:.2f} x")


def main() -> None:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "topic not found" on first use
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    asyncio.run(run(parser.parse_args().events))


if __name__ == "__main__":
    main()
