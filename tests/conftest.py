"""Fixtures for every test: real Kafka, real PostgreSQL and an SMTP sink, started on demand.

Each comes, in this order, from an address in the environment
(`KAFKA_BOOTSTRAP_SERVERS`, `LOBU_TEST_POSTGRES_URL`), from testcontainers when a
Docker engine answers, or from the project's local runners. Under `make test`
(`LOBU_REQUIRE_ALL=1`) a skipped test fails: see tests/support/prerequisites.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lobu.shared.mailsink import MailSink
from tests.support.kafka_server import KafkaServer, kafka_server
from tests.support.ports import free_port
from tests.support.postgres_server import PostgresServer, postgres_server
from tests.support.prerequisites import pytest_make_collect_report, pytest_runtest_makereport

__all__ = ["pytest_make_collect_report", "pytest_runtest_makereport"]  # hooks, not unused


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A real Apache Kafka broker for the whole test session."""
    with kafka_server(tmp_path_factory.mktemp("kafka")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole test session."""
    with postgres_server() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a test that takes it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/lobu.db"
        return
    postgres: PostgresServer = request.getfixturevalue("postgres")
    with postgres.database() as url:
        yield url


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    """An SMTP server that stores every message as an .eml file."""
    sink = MailSink(tmp_path / "mail", port=free_port())
    sink.start()
    yield sink
    sink.stop()
