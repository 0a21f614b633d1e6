"""The PostgreSQL server the tests use: from the environment, testcontainers, or a throwaway
cluster of Debian's `postgresql` package started here (as the `postgres` user when root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pytest_postgresql.janitor import DatabaseJanitor
from sqlalchemy.engine import make_url

from tests.support.ports import docker_engine_answers, free_port


@dataclass(frozen=True)
class PostgresServer:
    """Where a PostgreSQL server listens, with a superuser."""

    host: str
    port: int
    user: str
    password: str
    how: str
    # The pg_ctl command line (as the `postgres` user, with -D) of a cluster run here.
    pg_ctl: tuple[str, ...] = field(default=(), repr=False)
    start_options: str = field(default="", repr=False)

    def stop(self) -> None:
        """Stop the server (a cluster run here only), as an operator or a crash would."""
        self._pg_ctl("-m", "fast", "stop")

    def start(self, extra_options: str = "") -> None:
        """Start a stopped server again, on the same port and data (a cluster run here only)."""
        self._pg_ctl("-o", f"{self.start_options} {extra_options}", "-w", "start")

    def start_refusing_connections(self) -> None:
        """Start a stopped server as a standby that refuses connections (SQLSTATE 57P03,
        "the database system is not accepting connections"), until `promote`."""
        data = Path(self.pg_ctl[self.pg_ctl.index("-D") + 1])
        as_postgres = self.pg_ctl[: self.pg_ctl.index("--") + 1] if "--" in self.pg_ctl else ()
        subprocess.run([*as_postgres, "touch", str(data / "standby.signal")], check=True)
        self.start("-c hot_standby=off")

    def promote(self) -> None:
        """Let a server started by `start_refusing_connections` accept connections."""
        self._pg_ctl("-w", "promote")

    def _pg_ctl(self, *arguments: str) -> None:
        if not self.pg_ctl:
            raise RuntimeError(
                f"a PostgreSQL server from {self.how} cannot be stopped by the tests"
            )
        subprocess.run([*self.pg_ctl, *arguments], check=True, stdout=subprocess.DEVNULL)

    @contextmanager
    def database(self, prefix: str = "lobu") -> Iterator[str]:
        """A fresh, empty database for the block; its asyncpg URL is yielded."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        janitor = DatabaseJanitor(
            user=self.user,
            host=self.host,
            port=self.port,
            dbname=name,
            password=self.password or None,
        )
        with janitor:
            yield f"postgresql+asyncpg://{self.user}:{self.password}@{self.host}:{self.port}/{name}"


def _postgres_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise RuntimeError(
        "PostgreSQL is not installed: run `make test` (it installs Debian's postgresql "
        "package), or set LOBU_TEST_POSTGRES_URL to a server of your own"
    )


@contextmanager
def local_cluster() -> Iterator[PostgresServer]:
    """A throwaway cluster of its own, which a test may stop and start (outage tests)."""
    with _local_cluster() as server:
        yield server


@contextmanager
def _local_cluster() -> Iterator[PostgresServer]:
    bin_dir = _postgres_bin_dir()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Its own folder under /tmp: pytest's temporary folders are private to root, and
    # the server runs as the `postgres` user when we are root.
    base = Path(tempfile.mkdtemp(prefix="lobu-test-postgres-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir(exist_ok=True)
    if as_postgres:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    subprocess.run(
        [*as_postgres, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
         "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
         "-l", str(base / "server.log"), "-w", "start"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield PostgresServer(
            "127.0.0.1", port, "postgres", "", how="local initdb/pg_ctl",
            pg_ctl=(*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data),
                    "-l", str(base / "server.log")),
            start_options=options,
        )  # fmt: skip
    finally:
        subprocess.run(
            [*as_postgres, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"],
            check=False, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Yield a server in the order the design asks: environment, testcontainers, local."""
    if address := os.environ.get("LOBU_TEST_POSTGRES_URL"):
        url = make_url(address)
        yield PostgresServer(
            url.host or "127.0.0.1", url.port or 5432, url.username or "postgres",
            url.password or "", how="LOBU_TEST_POSTGRES_URL",
        )  # fmt: skip
        return
    if docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15") as container:
            yield PostgresServer(
                container.get_container_host_ip(), int(container.get_exposed_port(5432)),
                container.username, container.password, how="testcontainers",
            )  # fmt: skip
        return
    with _local_cluster() as server:
        yield server
