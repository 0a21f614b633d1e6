"""Consumer lag on the real broker: it rises while the group is stopped and falls to zero.

`lobu_consumer_lag_records{group,topic,partition}` is read from the broker (end offset
minus committed offset), so it is true also while no member of the group runs; and
`lobu consumer lag` prints the same numbers (a table and JSON).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lobu.shared.cli import main
from lobu.shared.consumer import ReliableConsumer
from lobu.shared.consumer_lag import LagMonitor, read_lag
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope, to_kafka_record
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import (
    create_consumer_tables,
    create_topics,
    raw_publisher,
    running_consumer,
)
from tests.shared.shared_fakes import envelope, record_effect
from tests.support.kafka_server import KafkaServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
run = pytest.mark.asyncio(loop_scope="session")

EVENT_TYPE = "lobu.test.thing.happened.v1"


@pytest_asyncio.fixture(loop_scope="session")
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = create_engine(f"sqlite+aiosqlite:///{tmp_path}/lag.db")
    await create_consumer_tables(database)
    yield database
    await database.dispose()


async def handle(session: AsyncSession, event: Envelope) -> None:
    await record_effect(session, event.id)


def lag_of(metrics: ServiceMetrics, group: str, topic: str) -> float:
    return sum(
        sample.value
        for family in metrics.registry.collect()
        if family.name == "lobu_consumer_lag_records"
        for sample in family.samples
        if sample.labels["group"] == group and sample.labels["topic"] == topic
    )


@run
async def test_lag_rises_while_the_group_is_stopped_and_falls_to_zero_when_it_runs(
    kafka: KafkaServer, engine: AsyncEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"test.lag-{uuid.uuid4().hex[:8]}"
    group = f"lag-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka.bootstrap_servers, topic, f"{topic}.dlq")
    metrics = ServiceMetrics(service="lag-test")
    monitor = LagMonitor(bootstrap_servers=kafka.bootstrap_servers, metrics=metrics)
    monitor.watch(group, [topic])
    consumer = ReliableConsumer(
        name=group, sessions=create_session_factory(engine), handlers={EVENT_TYPE: handle},
        publish=lambda _t, _r: _never(), metrics=metrics,
    )  # fmt: skip

    async with raw_publisher(kafka.bootstrap_servers) as publish:
        # The group is stopped (it never ran): five records wait.
        for number in range(5):
            await publish(topic, to_kafka_record(envelope(EVENT_TYPE, subject=f"s-{number}")))
        await monitor.refresh()
        assert lag_of(metrics, group, topic) == 5
        assert (
            len({s.partition for s in await read_lag(kafka.bootstrap_servers, group, [topic])}) == 3
        )

        async def lag_now() -> bool:
            await monitor.refresh()
            return lag_of(metrics, group, topic) == 0

        async with running_consumer(kafka.bootstrap_servers, consumer, [topic]):
            await eventually(lag_now, timeout=60, what="the lag to fall to zero")

        # Stopped again, with committed offsets now: three more records are lag again.
        for number in range(3):
            await publish(topic, to_kafka_record(envelope(EVENT_TYPE, subject=f"t-{number}")))
        await monitor.refresh()
        assert lag_of(metrics, group, topic) == 3

        capsys.readouterr()
        command = ["consumer", "lag", group, topic, "--bootstrap", kafka.bootstrap_servers]
        assert await asyncio.to_thread(main, [*command, "--json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert sum(row["lag"] for row in printed) == 3
        assert {row["partition"] for row in printed} == {0, 1, 2}
        assert await asyncio.to_thread(main, command) == 0
        table = capsys.readouterr().out.splitlines()
        assert table[0].split() == ["GROUP", "TOPIC", "PARTITION", "END", "COMMITTED", "LAG"]
        assert table[-1].split()[-1] == "3"  # the total

        async with running_consumer(kafka.bootstrap_servers, consumer, [topic]):
            await eventually(lag_now, timeout=60, what="the lag to fall to zero again")


async def _never() -> None:
    raise AssertionError("nothing is dead-lettered here")
