"""The join of a privacy request's answers on PostgreSQL: several consumer processes at once.

Every service's answer is handled in a transaction of its own, all at the same moment
(as by several consumer instances); each request must end `done` exactly when every
service answered, each answer recorded once, however the transactions interleave.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from lobu.directory.privacy_models import PrivacyAnswer
from lobu.directory.privacy_requests import PrivacyRequests
from lobu.shared.auth import Caller, Role
from lobu.shared.contracts.privacy import PRIVACY_ANSWERED, PrivacyAnswered
from lobu.shared.database import create_engine, create_session_factory
from lobu.shared.envelope import Envelope
from lobu.shared.migrations import upgrade_database
from lobu.shared.privacy import AddressHasher
from tests.support.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]

ADMIN = Caller(subject="servicebuero", role=Role.ADMIN)
SERVICES = ["directory", "events", "notifications", "surveys"]


@pytest_asyncio.fixture(loop_scope="session")
async def engine(postgres: PostgresServer) -> AsyncIterator[AsyncEngine]:
    with postgres.database() as url:
        engine = create_engine(url)
        await upgrade_database(engine, "lobu.directory:migrations")
        yield engine
        await engine.dispose()


def answer(request_id: str, service: str) -> Envelope:
    data = PrivacyAnswered(request_id=request_id, service=service, kind="erasure", erased={"x": 1})
    return Envelope(
        type=PRIVACY_ANSWERED, source=f"/lobu/{service}", subject=request_id,
        data=data.model_dump(mode="json"),
    )  # fmt: skip


async def test_concurrent_answers_complete_each_request_exactly_once(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    requests = PrivacyRequests(
        sessions, source="/lobu/directory", hasher=AddressHasher(b"k" * 32), services=SERVICES
    )
    for _round in range(10):
        request_id = (await requests.submit("anna@example.org", "erasure", actor=ADMIN)).request.id
        # Every service's answer, and a second copy of one (a redelivery), all at once.
        envelopes = [answer(request_id, service) for service in [*SERVICES, "events"]]

        async def handle(envelope: Envelope) -> None:
            async with sessions() as session, session.begin():
                await session.execute(text("SELECT pg_sleep(0.01)"))  # widen the overlap
                await requests.on_answer(session, envelope)

        await asyncio.gather(*(handle(envelope) for envelope in envelopes))
        status = await requests.status(request_id)
        assert status.request.state == "done"
        assert status.request.completed_at is not None
        assert status.services == dict.fromkeys(SERVICES, "done")
        async with sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(PrivacyAnswer)
                .where(col(PrivacyAnswer.request_id) == request_id)
            )
        assert count == len(SERVICES)


async def test_an_answer_short_of_the_last_leaves_the_request_pending(
    engine: AsyncEngine,
) -> None:
    sessions = create_session_factory(engine)
    requests = PrivacyRequests(
        sessions, source="/lobu/directory", hasher=AddressHasher(b"k" * 32), services=SERVICES
    )
    request_id = (await requests.submit("berta@example.org", "access", actor=ADMIN)).request.id
    for service in SERVICES[:-1]:
        async with sessions() as session, session.begin():
            await requests.on_answer(session, answer(request_id, service))
    status = await requests.status(request_id)
    assert status.request.state == "pending"
    assert status.services["surveys"] == "pending"
    # The request row keeps the keyed hash, never the address.
    async with sessions() as session:
        kept = await session.scalar(
            text("SELECT count(*) FROM privacy_requests r WHERE r::text LIKE '%berta%'")
        )
    assert kept == 0
