"""The Kafka broker for tests: from the environment, testcontainers, or deploy/local/kafka.sh."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import docker_engine_answers, free_port

REPO = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO / "deploy" / "local" / "kafka.sh"


@dataclass
class KafkaServer:
    """A reachable broker; `stop`/`start` work only for the local runner."""

    bootstrap_servers: str
    how: str
    env: dict[str, str] | None = None

    @property
    def can_restart(self) -> bool:
        """True when the tests may stop and start this broker (outage tests)."""
        return self.env is not None

    def stop(self) -> None:
        """Stop the broker (local runner only)."""
        self._script("stop")

    def start(self) -> None:
        """Start the broker again, with the same storage (local runner only)."""
        self._script("start")

    def _script(self, command: str) -> None:
        if self.env is None:
            raise RuntimeError(f"a Kafka broker from {self.how} cannot be stopped by the tests")
        subprocess.run([str(KAFKA_SCRIPT), command], env=self.env, check=True)


@contextmanager
def kafka_server(state_dir: Path) -> Iterator[KafkaServer]:
    """Yield a broker in the order the design asks: environment, testcontainers, local."""
    if address := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield KafkaServer(address, how="KAFKA_BOOTSTRAP_SERVERS")
        return
    if docker_engine_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield KafkaServer(container.get_bootstrap_server(), how="testcontainers")
        return
    port, controller_port = free_port(), free_port()
    env = {
        **os.environ,
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "KAFKA_STATE_DIR": str(state_dir),
        "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
    }
    server = KafkaServer(f"127.0.0.1:{port}", how="deploy/local/kafka.sh", env=env)
    server.start()
    try:
        yield server
    finally:
        server.stop()
