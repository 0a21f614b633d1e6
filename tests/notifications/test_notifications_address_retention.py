"""The delivery log forgets whom a finished mail went to after its period (issue 19).

On both backends, by an injected clock: finished email deliveries older than the
period lose recipient, subject and bodies and keep the rest; newer ones, unfinished
ones and webhook deliveries keep theirs; a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.notifications.address_retention import declare_address_retention
from lobu.notifications.models import Delivery
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.metrics import ServiceMetrics
from lobu.shared.migrations import upgrade_database
from lobu.shared.retention import RetentionJob

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest_asyncio.fixture(loop_scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url)
    await upgrade_database(engine, "lobu.notifications:migrations")
    yield create_session_factory(engine)
    await engine.dispose()


def delivery(recipient: str, status: str, at: datetime, channel: str = "email") -> Delivery:
    return Delivery(
        event_id=f"e-{recipient}", event_type="lobu.directory.alliance.created.v1",
        recipient=recipient, subject="Willkommen, Grete", body="Hallo Grete",
        html_body="<p>Hallo Grete</p>", status=status, channel=channel, created_at=at,
    )  # fmt: skip


async def test_finished_mails_forget_their_recipient_after_the_period(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add_all([
            delivery("alt.gesendet@example.org", "sent", T0),
            delivery("alt.fehler@example.org", "failed", T0),
            delivery("alt.wartet@example.org", "retrying", T0),
            delivery("neu.gesendet@example.org", "sent", T0 + timedelta(days=100)),
            delivery("webhook-subscription-1", "sent", T0, channel="webhook"),
        ])  # fmt: skip
    clock = FakeClock(T0 + timedelta(days=181))
    job = RetentionJob(sessions, metrics=ServiceMetrics(service="n"), clock=clock)
    declare_address_retention(job, timedelta(days=180))

    assert await job.run_once() == {"delivery_addresses": 2}
    async with sessions() as session:
        rows = {row.event_id: row for row in await session.scalars(select(Delivery))}
    for gone in ("e-alt.gesendet@example.org", "e-alt.fehler@example.org"):
        row = rows[gone]
        assert row.recipient == f"gelöscht:{row.id}"
        assert (row.subject, row.body, row.html_body) == ("[gelöscht]", "", None)
        assert row.status in ("sent", "failed")  # the log still says what happened
    assert rows["e-alt.wartet@example.org"].recipient == "alt.wartet@example.org"
    assert rows["e-neu.gesendet@example.org"].recipient == "neu.gesendet@example.org"
    assert rows["e-webhook-subscription-1"].recipient == "webhook-subscription-1"
    assert await job.run_once() == {"delivery_addresses": 0}
