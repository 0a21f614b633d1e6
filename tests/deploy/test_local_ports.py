"""`make run`'s ports: set in one place (deploy/local/ports.env, overridable from the
environment), passed to Kafka, the mail sink and the services, and a taken port said
in one clear line before anything starts. Never the real ports: every test sets all
of them to ports of its own.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]
PORT_NAMES = [
    line.split("=")[0]
    for line in (ROOT / "deploy/local/ports.env").read_text().splitlines()
    if line and not line.startswith("#")
]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def own_ports(**chosen: int) -> dict[str, str]:
    """The environment with every port of make run set to a free one (or as chosen)."""
    ports = {name: str(chosen.get(name, free_port())) for name in PORT_NAMES}
    state = tempfile.mkdtemp(prefix="lobu-ports-")  # never the worktree's var/kafka
    return {**os.environ, **ports, "KAFKA_STATE_DIR": state}


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_one_kafka_port_reaches_every_service_and_the_mail_port_notifications() -> None:
    env = own_ports()

    printed = run(["scripts/run-platform.sh", "--print-env"], env).stdout

    kafka = f"127.0.0.1:{env['KAFKA_PORT']}"
    for service in ("DIRECTORY", "SURVEYS", "EVENTS", "NOTIFICATIONS"):
        assert f"LOBU_{service}_KAFKA_BOOTSTRAP_SERVERS={kafka}\n" in printed
    assert f"LOBU_NOTIFICATIONS_SMTP_PORT={env['MAIL_PORT']}\n" in printed
    assert f"LOBU_SURVEYS_PUBLIC_BASE_URL=http://127.0.0.1:{env['SURVEYS_PORT']}\n" in printed


def test_no_port_is_fixed_in_the_procfile_or_run_env() -> None:
    for name in ("Procfile", "deploy/local/run.env"):
        text = (ROOT / name).read_text()
        assert not re.search(r"\b(9092|9093|1025|800[1-4])\b", text), name
    procfile = (ROOT / "Procfile").read_text()
    for name in ("MAIL_PORT", "DIRECTORY_PORT", "SURVEYS_PORT", "EVENTS_PORT"):
        assert f"${name}" in procfile


def test_a_taken_port_stops_make_run_with_its_name_before_anything_starts(
    taken_port: int,
) -> None:
    result = run(["scripts/run-platform.sh"], own_ports(DIRECTORY_PORT=taken_port))

    assert result.returncode == 1
    assert f"port {taken_port} (DIRECTORY_PORT) is taken by another program" in result.stderr
    assert "DIRECTORY_PORT=1" in result.stderr  # how to choose another
    assert "kafka.sh" not in result.stderr  # Kafka was not started


def test_a_taken_kafka_port_is_one_line_not_a_java_stack_trace(taken_port: int) -> None:
    result = run(["deploy/local/kafka.sh", "start"], own_ports(KAFKA_PORT=taken_port))

    assert result.returncode == 3  # "port taken": the test fixture chooses another
    assert f"port {taken_port} (KAFKA_PORT) is taken by another program" in result.stderr
    assert "Exception" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
