"""How soon do publishing and consuming resume after the broker restarts? (issue 6, defect 10)

One service's moving parts as `ServiceRuntime` wires them (KafkaConnection, OutboxRelay
woken on reconnection, a ReliableConsumer subscribed through `subscribe()`), on
PostgreSQL and the local Kafka runner. Each cycle writes outbox rows before the stop,
while the broker shuts down (in flight), during the outage and after the start, then waits
until every one has been consumed. Per cycle it prints the seconds from "broker ready"
(`kafka.sh start` returned: a metadata request succeeded) to the first and last record
published (acknowledged by Kafka) and consumed. Run:

    PYTHONPATH=. .venv/bin/python bench/broker_restart.py --cycles 10
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from tempfile import TemporaryDirectory

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.shared.inbox  # noqa: F401  # registers the table
from lobu.shared.clock import utc_now
from lobu.shared.consumer import ReliableConsumer, subscribe
from lobu.shared.database import create_engine, create_session_factory, transaction
from lobu.shared.envelope import Envelope
from lobu.shared.kafka import KafkaConnection, create_broker
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import OutboxMessage
from lobu.shared.relay import OutboxRelay
from tests.support.kafka_server import KafkaServer, kafka_server
from tests.support.postgres_server import postgres_server

TYPE = "lobu.bench.thing.changed.v1"


async def write(sessions: async_sessionmaker[AsyncSession], topic: str, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        async with transaction(sessions) as session:
            event_id = str(uuid.uuid4())
            session.add(
                OutboxMessage(
                    event_id=event_id, topic=topic, event_type=TYPE, source="/bench",
                    subject=f"k{len(ids) % 3}", data={"n": len(ids)}, occurred_at=utc_now(),
                )
            )  # fmt: skip
            ids.append(event_id)
    return ids


async def published_at(sessions: async_sessionmaker[AsyncSession]) -> dict[str, float]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.event_id, OutboxMessage.published_at).where(
                col(OutboxMessage.published_at).is_not(None)
            )
        )
        return {event_id: at.timestamp() for event_id, at in rows.all()}


async def cycle(
    kafka: KafkaServer, sessions: async_sessionmaker[AsyncSession], topic: str,
    consumed: dict[str, float], limit: float,
) -> tuple[float, float, float, float]:  # fmt: skip
    before = await write(sessions, topic, 5)
    while not all(event_id in consumed for event_id in before):  # noqa: ASYNC110 (polls)
        await asyncio.sleep(0.1)
    # Rows written while the broker shuts down: their records are in flight at the stop.
    stopping = asyncio.create_task(asyncio.to_thread(kafka.stop))
    in_flight = await write(sessions, topic, 5)
    while not stopping.done():
        in_flight += await write(sessions, topic, 1)
        await asyncio.wait({stopping}, timeout=0.2)
    await stopping
    during = await write(sessions, topic, 5)
    await asyncio.to_thread(kafka.start)
    ready = time.time()
    after = await write(sessions, topic, 5)
    expected = in_flight + during + after
    deadline = time.monotonic() + limit
    while not all(event_id in consumed for event_id in expected):
        if time.monotonic() > deadline:
            missing = [event_id for event_id in expected if event_id not in consumed]
            raise AssertionError(f"{len(missing)} records not consumed {limit} s after the start")
        await asyncio.sleep(0.1)
    published = await published_at(sessions)
    pub = [published[event_id] - ready for event_id in expected]
    con = [consumed[event_id] - ready for event_id in expected]
    return min(pub), max(pub), min(con), max(con)


async def run(cycles: int, limit: float) -> None:
    with TemporaryDirectory() as folder, ExitStack() as stack:
        kafka = stack.enter_context(kafka_server(Path(folder) / "kafka"))
        if not kafka.can_restart:
            raise SystemExit(f"needs the local Kafka runner to stop and start it, not {kafka.how}")
        postgres = stack.enter_context(postgres_server())
        engine = create_engine(stack.enter_context(postgres.database("restart")))
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        sessions = create_session_factory(engine)
        metrics = ServiceMetrics(service="restart")
        broker = create_broker(
            bootstrap_servers=kafka.bootstrap_servers, service="restart", metrics=metrics
        )
        connection = KafkaConnection(
            broker, bootstrap_servers=kafka.bootstrap_servers, metrics=metrics
        )
        topic = f"restart.{uuid.uuid4().hex[:6]}"
        consumed: dict[str, float] = {}

        async def handle(_session: AsyncSession, event: Envelope) -> None:
            consumed.setdefault(event.id, time.time())

        consumer = ReliableConsumer(
            name="restart-bench", sessions=sessions, handlers={TYPE: handle},
            publish=connection.publish, metrics=metrics,
        )  # fmt: skip
        subscribe(broker, consumer, [topic])
        relay = OutboxRelay(
            sessions, connection.publish, metrics=metrics, kafka_answers=connection.ping
        )
        connection.on_reachable(relay.wake)
        await write(sessions, topic, 1)  # creates the topic before the consumer starts
        connection.start()
        relay.start()
        await connection.wait_connected()
        print(f"Kafka: {kafka.how}; PostgreSQL: {postgres.how}")
        print("cycle  first published  last published  first consumed  last consumed  (s)")
        figures = []
        try:
            for number in range(1, cycles + 1):
                figures.append(await cycle(kafka, sessions, topic, consumed, limit))
                print(f"{number:5d}  " + "  ".join(f"{value:14.1f}" for value in figures[-1]))
        finally:
            await relay.stop()
            await connection.stop()
            await engine.dispose()
        worst = [max(column) for column in zip(*figures, strict=True)]
        median = [statistics.median(column) for column in zip(*figures, strict=True)]
        print("median " + "  ".join(f"{value:14.1f}" for value in median))
        print("worst  " + "  ".join(f"{value:14.1f}" for value in worst))


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--limit", type=float, default=300, help="seconds to wait per cycle")
    args = parser.parse_args()
    asyncio.run(run(args.cycles, args.limit))


if __name__ == "__main__":
    main()
