"""The local three-broker cluster (deploy/local/kafka.sh --brokers 3), driven by the fault tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tests.support.kafka_server import KAFKA_SCRIPT
from tests.support.ports import free_port


@dataclass
class Cluster:
    """Three KRaft nodes on 127.0.0.1; node N is broker id N."""

    env: dict[str, str]
    ports: list[int]

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def start(self) -> None:
        """Start every node (and apply the declared topics with three replicas)."""
        self._run("start", "--brokers", "3")

    def stop(self) -> None:
        """Stop every node cleanly (SIGTERM); the storage stays."""
        self._run("stop", "--brokers", "3")

    def kill_broker(self, node: int) -> None:
        """SIGKILL node `node`."""
        self._run("stop", "--broker", str(node), "--kill")

    def start_broker(self, node: int) -> None:
        """Start node `node` again with its storage."""
        self._run("start", "--broker", str(node))

    async def leader(self, topic: str, partition: int = 0) -> int:
        """The broker id leading `partition` of `topic` now."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers)
        await admin.start()
        try:
            [described] = await admin.describe_topics([topic])
        finally:
            await admin.close()
        [found] = [p for p in described["partitions"] if p["partition"] == partition]
        return int(found["leader"])

    def _run(self, *arguments: str) -> None:
        done = subprocess.run(
            [str(KAFKA_SCRIPT), *arguments], env=self.env, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"kafka.sh {' '.join(arguments)} failed:\n{done.stderr[-2000:]}")


@contextmanager
def local_cluster(state_dir: Path) -> Iterator[Cluster]:
    """A started three-node cluster on free ports, stopped afterwards."""
    ports = [free_port() for _ in range(6)]
    env = {
        **os.environ,
        "KAFKA_STATE_DIR": str(state_dir),
        "KAFKA_PORTS": ",".join(map(str, ports[:3])),
        "KAFKA_CONTROLLER_PORTS": ",".join(map(str, ports[3:])),
        "KAFKA_START_TIMEOUT": "300",
    }
    cluster = Cluster(env=env, ports=ports[:3])
    try:
        cluster.start()
        yield cluster
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=env, capture_output=True, timeout=600)
