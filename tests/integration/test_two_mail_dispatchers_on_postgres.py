"""Two notifications mail dispatchers on one PostgreSQL database send each delivery once.

Two replicas of the service each run a `DeliveryDispatcher`; they claim due deliveries
with `FOR UPDATE SKIP LOCKED` and a compare-and-set (`claim_for_sending`). SQLite has
no row locks, so only PostgreSQL shows the two claiming side by side. The mail goes
over real SMTP to the local sink, where every Message-ID must arrive exactly once.
"""

from __future__ import annotations

import email
import email.policy
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as Outcomes
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel, col

import lobu.notifications.models  # noqa: F401  # registers the tables with SQLModel.metadata
from lobu.notifications.dispatcher import DeliveryDispatcher
from lobu.notifications.mailer import SmtpMailer, message_id
from lobu.notifications.main import create_metrics
from lobu.notifications.models import Delivery
from lobu.notifications.settings import NotificationSettings
from lobu.shared.contracts.directory import ALLIANCE_CREATED
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.mailsink import MailSink
from tests.support.postgres_server import PostgresServer
from tests.support.tokens import TEST_AUTH
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

Sessions = async_sessionmaker[AsyncSession]
DELIVERIES = 120


@pytest_asyncio.fixture(loop_scope="session")
async def database(postgres: PostgresServer) -> AsyncIterator[tuple[str, Sessions]]:
    with postgres.database("dispatchers") as url:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        yield url, create_session_factory(engine)
        await engine.dispose()


def dispatcher(url: str, sessions: Sessions, sink: MailSink) -> tuple[DeliveryDispatcher, Outcomes]:
    """One replica's dispatcher, with metrics of its own; and its `sent` counter."""
    settings = NotificationSettings(smtp_port=sink.port, database_url=url, **TEST_AUTH)
    registry = CollectorRegistry()
    metrics = create_metrics(SimpleNamespace(metrics=SimpleNamespace(registry=registry)))  # type: ignore[arg-type]
    replica = DeliveryDispatcher(
        sessions,
        SmtpMailer(settings),
        metrics=metrics,
        max_attempts=3,
        poll_seconds=0.05,
        concurrency=4,
        batch_size=10,
    )
    return replica, metrics.outcomes


async def add_deliveries(sessions: Sessions, count: int) -> set[str]:
    """`count` pending deliveries in one transaction; their Message-IDs."""
    expected = set()
    async with sessions() as session, session.begin():
        for number in range(count):
            event_id, recipient = str(uuid.uuid4()), f"kontakt-{number}@example.org"
            session.add(
                Delivery(
                    event_id=event_id, event_type=ALLIANCE_CREATED, alliance_id=f"a-{number}",
                    recipient=recipient, subject=f"Willkommen {number}", body="Guten Tag.\n",
                )
            )  # fmt: skip
            expected.add(message_id(f"{event_id}:{recipient}"))
    return expected


async def unsent(sessions: Sessions) -> int:
    async with sessions() as session:
        left = await session.scalar(select(func.count()).where(col(Delivery.status) != "sent"))
        return int(left or 0)


def sent_by(outcomes: Outcomes) -> float:
    return float(outcomes.labels("email", "sent")._value.get())


def message_ids(sink: MailSink) -> Counter[str]:
    seen: Counter[str] = Counter()
    for path in sink.messages():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        seen[str(message["Message-ID"]).strip()] += 1
    return seen


async def test_two_dispatchers_on_one_database_send_every_delivery_exactly_once(
    database: tuple[str, Sessions], mail_sink: MailSink
) -> None:
    url, sessions = database
    expected = await add_deliveries(sessions, DELIVERIES)
    replicas = [dispatcher(url, sessions, mail_sink) for _ in range(2)]

    for replica, _ in replicas:
        await replica.start()
    try:
        await eventually(
            lambda: _none_left(sessions), timeout=180, what="every delivery marked sent"
        )
        await eventually(
            lambda: len(mail_sink.messages()) >= DELIVERIES, timeout=60, what="every mail"
        )
    finally:
        for replica, _ in replicas:
            await replica.stop()

    seen = message_ids(mail_sink)
    twice = {mid: n for mid, n in seen.items() if n > 1}
    assert twice == {}, f"{len(twice)} Message-IDs arrived more than once"
    assert set(seen) == expected
    sent = [sent_by(outcomes) for _, outcomes in replicas]
    assert sum(sent) == DELIVERIES
    assert all(sent), f"one dispatcher sent everything ({sent}): they did not run side by side"


async def _none_left(sessions: Sessions) -> bool:
    return await unsent(sessions) == 0
