"""`kafka.sh start --brokers 3`: three KRaft nodes, the declared topics with three replicas
and min.insync.replicas=2, one node stopped and started by number (fault suite: slow)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from lobu.shared.topics import DIRECTORY_ALLIANCE
from tests.support.kafka_server import KAFKA_SCRIPT
from tests.support.ports import free_port
from tests.support.waiting import eventually

pytestmark = [pytest.mark.faults, pytest.mark.asyncio(loop_scope="session")]


def kafka_sh(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAFKA_SCRIPT), *arguments], env=env, capture_output=True, text=True, timeout=400
    )


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    ports = [free_port() for _ in range(6)]
    env = {
        **os.environ,
        "KAFKA_STATE_DIR": str(tmp_path_factory.mktemp("cluster")),
        "KAFKA_PORTS": ",".join(map(str, ports[:3])),
        "KAFKA_CONTROLLER_PORTS": ",".join(map(str, ports[3:])),
        "KAFKA_START_TIMEOUT": "240",
    }
    started = kafka_sh(env, "start", "--brokers", "3")
    try:
        assert started.returncode == 0, started.stderr
        yield env, ",".join(f"127.0.0.1:{port}" for port in ports[:3])
    finally:
        kafka_sh(env, "stop")


async def publish(bootstrap: str, value: bytes, timeout: float) -> bool:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, request_timeout_ms=5000
    )
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(DIRECTORY_ALLIANCE, value, key=b"k"), timeout)
        return True
    except Exception:
        return False
    finally:
        # A record that was refused keeps stop() waiting for it: abandoned after 10 s.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producer.stop(), 10)


async def test_the_declared_topics_have_three_replicas_and_one_node_may_be_down(
    cluster: tuple[dict[str, str], str],
) -> None:
    env, bootstrap = cluster
    assert os.path.isdir(os.path.join(env["KAFKA_STATE_DIR"], "broker-3", "data"))  # noqa: ASYNC240
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        nodes = (await admin.describe_cluster())["brokers"]
        described = await admin.describe_topics([DIRECTORY_ALLIANCE])
    finally:
        await admin.close()
    assert len(nodes) == 3
    assert {len(p["replicas"]) for p in described[0]["partitions"]} == {3}

    assert kafka_sh(env, "stop", "--broker", "2", "--kill").returncode == 0
    assert await publish(bootstrap, b"two of three", timeout=60)  # min.insync.replicas=2 met

    assert kafka_sh(env, "stop", "--broker", "3", "--kill").returncode == 0
    assert not await publish(bootstrap, b"one of three", timeout=15)  # refused, not kept by one

    for node in ("2", "3"):
        restarted = kafka_sh(env, "start", "--broker", node)
        assert restarted.returncode == 0, restarted.stderr
    await eventually(lambda: publish(bootstrap, b"all back", timeout=20), timeout=120)
