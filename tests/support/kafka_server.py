"""The Kafka broker for tests: from the environment, testcontainers, or deploy/local/kafka.sh."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import docker_engine_answers, free_port
from tests.support.prerequisites import missing, waived

REPO = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO / "deploy" / "local" / "kafka.sh"


# A broker from KAFKA_BOOTSTRAP_SERVERS can take part in the outage tests when these
# two commands (split like a shell would) stop and start it (e.g. `docker compose stop kafka`).
STOP_COMMAND = "LOBU_TEST_KAFKA_STOP_COMMAND"
START_COMMAND = "LOBU_TEST_KAFKA_START_COMMAND"
# Set to 1 to say that the broker is external on purpose and cannot be stopped: the
# outage tests are then skipped, even under `make test`.
EXTERNAL = "LOBU_TEST_KAFKA_EXTERNAL"


@dataclass
class KafkaServer:
    """A reachable broker; `stop`/`start` work for the local runner or with commands."""

    bootstrap_servers: str
    how: str
    env: dict[str, str] | None = None
    commands: tuple[str, str] | None = None  # (stop, start) shell commands

    @property
    def can_restart(self) -> bool:
        """True when the tests may stop and start this broker (outage tests)."""
        return self.env is not None or self.commands is not None

    def stop(self) -> None:
        """Stop the broker."""
        self._run("stop")

    def start(self) -> None:
        """Start the broker again, with the same storage."""
        self._run("start")

    def require_restart(self) -> None:
        """Skip (or fail under `make test`) the calling test unless this broker can restart."""
        if self.can_restart:
            return
        if os.environ.get(EXTERNAL, "") not in ("", "0"):
            waived(f"the outage test stops the broker, and {EXTERNAL}=1 says it cannot be")
        missing(
            f"a Kafka broker the tests can stop and start (this one comes from {self.how})",
            provide=f"unset KAFKA_BOOTSTRAP_SERVERS so that the tests start their own, or set "
            f"{STOP_COMMAND} and {START_COMMAND} to shell commands that stop and start it, "
            f"or set {EXTERNAL}=1 to skip the outage tests on purpose",
        )

    def _run(self, command: str) -> None:
        if self.env is not None:
            subprocess.run([str(KAFKA_SCRIPT), command], env=self.env, check=True)
        elif self.commands is not None:
            stop, start = self.commands
            subprocess.run(shlex.split(stop if command == "stop" else start), check=True)
        else:
            raise RuntimeError(f"a Kafka broker from {self.how} cannot be stopped by the tests")


@contextmanager
def kafka_server(state_dir: Path) -> Iterator[KafkaServer]:
    """Yield a broker in the order the design asks: environment, testcontainers, local."""
    if address := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        stop, start = os.environ.get(STOP_COMMAND), os.environ.get(START_COMMAND)
        commands = (stop, start) if stop and start else None
        yield KafkaServer(address, how="KAFKA_BOOTSTRAP_SERVERS", commands=commands)
        return
    if docker_engine_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.1").with_kraft() as container:
            yield KafkaServer(container.get_bootstrap_server(), how="testcontainers")
        return
    server = _start_local(state_dir)
    try:
        yield server
    finally:
        server.stop()


# kafka.sh's exit status when a port is taken: another test worker may have been handed
# the same free port before this broker bound it, so the fixture picks new ports.
PORT_TAKEN = 3
START_ATTEMPTS = 3


def _start_local(state_dir: Path) -> KafkaServer:
    """Start a broker with deploy/local/kafka.sh on free ports; the script's words on failure."""
    for _ in range(START_ATTEMPTS):
        port, controller_port = free_port(), free_port()
        env = {
            **os.environ,
            "KAFKA_PORT": str(port),
            "KAFKA_CONTROLLER_PORT": str(controller_port),
            "KAFKA_STATE_DIR": str(state_dir),
            "KAFKA_HEAP_OPTS": "-Xms256m -Xmx512m",
        }
        started = subprocess.run(
            [str(KAFKA_SCRIPT), "start"], env=env, capture_output=True, text=True
        )
        if started.returncode == 0:
            return KafkaServer(f"127.0.0.1:{port}", how="deploy/local/kafka.sh", env=env)
        if started.returncode != PORT_TAKEN:
            break
    raise RuntimeError(
        f"deploy/local/kafka.sh start failed (exit {started.returncode}):\n"
        + "\n".join((started.stdout + started.stderr).strip().splitlines()[-15:])
    )
