"""`lobu outbox status`: each service's outbox as a table and as JSON."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from lobu.shared.cli import main
from lobu.shared.contracts.directory import ALLIANCE_DELETED, AllianceDeleted
from lobu.shared.database import create_engine, create_session_factory, transaction
from lobu.shared.outbox import add_event

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 17, 9, 30, tzinfo=UTC)


async def outbox_with_three_events(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    async with transaction(create_session_factory(engine)) as session:
        for alliance in ("a-1", "a-2", "a-3"):
            add_event(
                session, event_type=ALLIANCE_DELETED, source="/lobu/directory", subject=alliance,
                data=AllianceDeleted(id=alliance, version=2, deleted_at=NOW),
            )  # fmt: skip
    await engine.dispose()


def test_outbox_status_counts_waiting_events_and_says_which_database_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/directory.db"
    asyncio.run(outbox_with_three_events(url))

    assert (
        main(["outbox", "status", "--service", "directory", "--database-url", url, "--json"]) == 0
    )
    (report,) = json.loads(capsys.readouterr().out)
    assert report["service"] == "directory"
    assert (report["unpublished"], report["parked"], report["published"]) == (3, 0, 0)
    assert report["oldest_age_seconds"] >= 0

    assert main(["outbox", "status", "--service", "directory", "--database-url", url]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["SERVICE", "UNPUBLISHED", "PARKED", "OLDEST_S", "PUBLISHED", "ERROR"]
    assert row.split()[:3] == ["directory", "3", "0"]

    missing = f"sqlite+aiosqlite:///{tmp_path}/nothing-here.db"
    assert main(["outbox", "status", "--service", "events", "--database-url", missing]) == 3
    assert "no database at" in capsys.readouterr().out
    assert not (tmp_path / "nothing-here.db").exists()  # looking created nothing
