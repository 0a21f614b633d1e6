"""`lobu outbox parked` and `lobu outbox retry`: operators see and release parked rows."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import lobu.shared.inbox
import lobu.shared.outbox  # noqa: F401  (registers the outbox table)
from lobu.shared.cli import main
from lobu.shared.contracts.directory import ALLIANCE_DELETED, AllianceDeleted
from lobu.shared.database import create_engine, create_session_factory, transaction
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.outbox import add_event
from lobu.shared.relay import OutboxRelay
from tests.shared.shared_fakes import FakeKafka

pytestmark = pytest.mark.unit


async def park_one_row(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    sessions = create_session_factory(engine)
    async with transaction(sessions) as session:
        add_event(
            session, event_type=ALLIANCE_DELETED, source="/lobu/directory", subject="a-1",
            data=AllianceDeleted(id="a-1", version=2, deleted_at=datetime.now(UTC)),
        )  # fmt: skip
    kafka = FakeKafka(down=True)
    relay = OutboxRelay(sessions, kafka, metrics=ServiceMetrics(service="cli"), max_attempts=1)
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    await engine.dispose()


def test_parked_lists_a_parked_row_and_retry_releases_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/directory.db"
    asyncio.run(park_one_row(url))
    monkeypatch.setenv("LOBU_DIRECTORY_DATABASE_URL", url)

    assert main(["outbox", "parked", "--service", "directory"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    parked = json.loads(line)
    assert (parked["subject"], parked["attempts"]) == ("a-1", 1)
    assert parked["last_error"] == "ConnectionError: Kafka is down"

    assert main(["outbox", "retry", "--database-url", url, parked["event_id"]]) == 0
    assert "released 1 parked outbox events" in capsys.readouterr().out
    assert main(["outbox", "parked", "--database-url", url]) == 0
    assert capsys.readouterr().out == ""


def test_retry_without_event_ids_or_all_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "retry"]) == 2
    assert "--all" in capsys.readouterr().err
