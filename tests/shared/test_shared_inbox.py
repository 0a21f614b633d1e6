"""The inbox: one claim per consumer and event."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lobu.shared.database import transaction
from lobu.shared.inbox import InboxMessage, claim_event

pytestmark = pytest.mark.unit

EVENT_TYPE = "lobu.directory.alliance.created.v1"


async def claim(sessions: async_sessionmaker[AsyncSession], consumer: str, event_id: str) -> bool:
    async with transaction(sessions) as session:
        return await claim_event(
            session, consumer=consumer, event_id=event_id, event_type=EVENT_TYPE
        )


@pytest.mark.asyncio(loop_scope="session")
async def test_the_first_claim_succeeds_and_a_second_one_does_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await claim(sessions, "notifications", "e-1") is True
    assert await claim(sessions, "notifications", "e-1") is False


@pytest.mark.asyncio(loop_scope="session")
async def test_a_second_claim_in_the_same_transaction_also_fails(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with transaction(sessions) as session:
        first = await claim_event(session, consumer="c", event_id="e-1", event_type=EVENT_TYPE)
        second = await claim_event(session, consumer="c", event_id="e-1", event_type=EVENT_TYPE)

    assert (first, second) == (True, False)


@pytest.mark.asyncio(loop_scope="session")
async def test_different_consumers_may_claim_the_same_event(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await claim(sessions, "notifications", "e-1") is True
    assert await claim(sessions, "search", "e-1") is True


@pytest.mark.asyncio(loop_scope="session")
async def test_one_consumer_may_claim_different_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await claim(sessions, "notifications", "e-1") is True
    assert await claim(sessions, "notifications", "e-2") is True


@pytest.mark.asyncio(loop_scope="session")
async def test_a_claim_rolled_back_with_its_transaction_can_be_made_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async def claim_then_fail() -> None:
        async with transaction(sessions) as session:
            await claim_event(session, consumer="c", event_id="e-1", event_type=EVENT_TYPE)
            raise RuntimeError("the effect failed")

    with pytest.raises(RuntimeError, match="the effect failed"):
        await claim_then_fail()

    assert await claim(sessions, "c", "e-1") is True


@pytest.mark.asyncio(loop_scope="session")
async def test_a_claim_records_the_event_type_and_when_it_was_handled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await claim(sessions, "notifications", "e-1")

    async with sessions() as session:
        [entry] = (await session.scalars(select(InboxMessage))).all()
    assert (entry.consumer, entry.event_id, entry.event_type) == (
        "notifications",
        "e-1",
        EVENT_TYPE,
    )
    assert entry.handled_at is not None
