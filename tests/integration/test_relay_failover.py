"""Two relay processes on one PostgreSQL outbox and the real broker: one publishes, and
when it is SIGKILLed mid-stream the other takes over within seconds; every event reaches
the topic, each key's events in order."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.test_relay_on_postgres_and_kafka import (
    read_to_end,
    unpublished,
    write,
)
from tests.support.kafka_server import REPO, KafkaServer
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

Sessions = async_sessionmaker[AsyncSession]
KEYS = [f"alliance-{k}" for k in range(4)]


async def lease_holder(sessions: Sessions) -> str | None:
    """The application_name of the connection holding the relay lease, if any."""
    async with sessions() as session:
        return await session.scalar(
            text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND a.application_name LIKE 'lobu relay %' AND a.datname = current_database()"
            )
        )


def start_relay(url: str, kafka: KafkaServer, name: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.support.relay_process", url, kafka.bootstrap_servers, name],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


async def test_the_standby_relay_takes_over_within_seconds_and_keeps_each_keys_order(
    pg_sessions: Sessions, kafka: KafkaServer, tmp_path: Path
) -> None:
    url = pg_sessions.kw["bind"].url.render_as_string(hide_password=False)
    topic = f"relay-failover.{os.urandom(4).hex()}"
    relays = {
        name: start_relay(url, kafka, name, tmp_path / f"{name}.log") for name in ("one", "two")
    }
    versions = dict.fromkeys(KEYS, 0)
    writing = True

    async def stream() -> None:  # about 25 rows a second, round-robin over four keys
        while writing:
            for key in KEYS:
                versions[key] += 1
                await write(pg_sessions, topic, [(key, versions[key])])
            await asyncio.sleep(0.15)

    try:
        holder = await eventually(lambda: lease_holder(pg_sessions), timeout=90, what="a lease")
        active = "one" if " one " in f"{holder} " else "two"
        standby = "two" if active == "one" else "one"
        writer = asyncio.create_task(stream())
        await eventually(lambda: sum(versions.values()) >= 100, timeout=60, what="a stream")
        relays[active].send_signal(signal.SIGKILL)
        killed = time.monotonic()
        taken = await eventually(
            lambda: _held_by(pg_sessions, standby), timeout=60, what="the standby to take over"
        )
        takeover = time.monotonic() - killed
        await eventually(lambda: sum(versions.values()) >= 250, timeout=60, what="more writes")
        writing = False
        await writer
        await eventually(
            lambda: _none_left(pg_sessions), timeout=120, what="the standby to drain the outbox"
        )
    finally:
        writing = False
        for process in relays.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
            process.wait()

    seen = await read_to_end(kafka.bootstrap_servers, topic)
    written = sum(versions.values())
    first_seen: dict[str, list[int]] = {}
    ids: set[str] = set()
    for record in seen:
        if record.event_id not in ids:
            ids.add(record.event_id)
            first_seen.setdefault(record.key, []).append(record.version)
    print(
        f"relay failover: {written} events, {len(seen)} records, {len(seen) - len(ids)} "
        f"re-sent after the kill, takeover {takeover:.1f} s ({taken})"
    )
    assert len(ids) == written  # nothing lost
    assert first_seen == {key: list(range(1, versions[key] + 1)) for key in KEYS}  # in order
    assert takeover < 10
    log = (tmp_path / f"{standby}.log").read_text()
    assert "this replica is the active outbox relay" in log


async def _held_by(sessions: Sessions, name: str) -> str | None:
    holder = await lease_holder(sessions)
    return holder if holder and f" {name} " in f"{holder} " else None


async def _none_left(sessions: Sessions) -> bool:
    return await unpublished(sessions) == 0
