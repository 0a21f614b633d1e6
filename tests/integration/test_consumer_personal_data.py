"""No personal data in logs or dead-letter headers, on SQLite and PostgreSQL.

A handler fails with a real IntegrityError on a row that holds an email address:
PostgreSQL's DETAIL names the duplicate value, SQLAlchemy appends the bound
parameters. Neither the captured log records, nor lobu's own log output (with the
traceback), nor the dead letter's headers may contain the address.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import Column, Integer, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lobu.shared.consumer import Outcome, ReliableConsumer
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope
from lobu.shared.logs import QUIET_LOGGERS, log_handler
from lobu.shared.metrics import ServiceMetrics
from tests.integration.consumer_harness import create_consumer_tables
from tests.shared.shared_fakes import FakeKafka, envelope, received_envelope

pytestmark = pytest.mark.integration

EVENT_TYPE = "lobu.test.contact.added.v1"
EMAIL = "jane.doe@example.org"
NAME = "Jane Doe-Personal"

people_metadata = MetaData()
people = Table(
    "test_people",
    people_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("email", String(200), nullable=False, unique=True),
)


@pytest_asyncio.fixture(loop_scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await create_consumer_tables(engine)
    async with engine.begin() as connection:
        await connection.run_sync(people_metadata.create_all)
        await connection.execute(insert(people).values(name="Someone", email=EMAIL))
    yield engine
    await engine.dispose()


async def adds_the_same_person_again(session: AsyncSession, event: Envelope) -> None:
    await session.execute(insert(people).values(name=event.data["name"], email=event.data["email"]))


@pytest.mark.asyncio(loop_scope="session")
async def test_a_constraint_violation_on_personal_data_leaves_no_trace_of_it(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    kafka = FakeKafka()
    consumer = ReliableConsumer(
        name="privacy-test",
        sessions=create_session_factory(engine),
        handlers={EVENT_TYPE: adds_the_same_person_again},
        publish=kafka,
        metrics=ServiceMetrics(service="test"),
        max_attempts=2,
        retry_backoff_seconds=0,
    )
    output = io.StringIO()
    lobu_output = log_handler(service="test", stream=output)
    root = logging.getLogger()
    root.addHandler(lobu_output)
    caplog.set_level(logging.DEBUG)
    for name, level in QUIET_LOGGERS.items():  # as configure_logging leaves them
        caplog.set_level(level, logger=name)
    try:
        outcome = await consumer.handle(
            received_envelope(envelope(EVENT_TYPE, data={"name": NAME, "email": EMAIL}))
        )
    finally:
        root.removeHandler(lobu_output)

    assert outcome is Outcome.DEAD_LETTERED
    [(_, letter)] = kafka.sent
    error = letter.headers["lobu-dlq-error"].decode()
    assert "IntegrityError" in error  # still says what went wrong
    if engine.dialect.name == "postgresql":
        assert "SQLSTATE 23505" in error
        assert "constraint test_people_email_key" in error
    for name, raw in letter.headers.items():
        if name.startswith("lobu-dlq-"):
            assert EMAIL.encode() not in raw, name
            assert NAME.encode() not in raw, name
    assert caplog.records, "the consumer logged nothing"
    for text in (caplog.text, output.getvalue(), *(r.getMessage() for r in caplog.records)):
        assert EMAIL not in text
        assert NAME not in text
    assert "Traceback" in output.getvalue()  # the frames are kept, the values are not
