"""The addresses erased on request, as keyed hashes: what keeps them erased.

After an erasure the address is gone from notifications' tables; only its keyed hash
(lobu.shared.privacy) stays here, with the moment of the erasure and the categories
the person had opted out of. Two rules follow, checked where mail and replicas are
written:

- a fact published before the erasure (read again from a topic, replayed from a
  dead-letter topic, or late) addresses nobody at that address, and puts no contact
  with it into a replica: the old event cannot bring the address back;
- someone who had opted out of a category stays opted out of it, should the address
  come back with a new fact (a new registration, say).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel

from lobu.shared import as_utc, utc_now
from lobu.shared.consumer import current_event_time
from lobu.shared.privacy import AddressHasher


class ErasedAddress(SQLModel, table=True):
    """One erased address's keyed hash: a suppression entry and a tombstone."""

    __tablename__ = "erased_addresses"

    address_hash: str = Field(primary_key=True, max_length=64)
    # Categories the person had unsubscribed from: they stay off.
    opted_out: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    erased_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Erasures:
    """Looks addresses up in the erasure list."""

    def __init__(self, hasher: AddressHasher) -> None:
        self.hasher = hasher

    async def entry(self, session: AsyncSession, address: str) -> ErasedAddress | None:
        """The erasure entry of `address`, if it was ever erased."""
        return await session.get(ErasedAddress, self.hasher.hash(address))

    async def forbids(self, session: AsyncSession, address: str) -> bool:
        """True when the fact being handled is older than the erasure of `address`.

        Outside a consumer (no event time) only an erasure that exists forbids nothing.
        """
        entry = await self.entry(session, address)
        if entry is None:
            return False
        happened = current_event_time.get()
        return happened is not None and as_utc(happened) <= as_utc(entry.erased_at)

    async def without_erased(
        self, session: AsyncSession, contacts: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`contacts` without those erased after the fact being handled."""
        kept = []
        for contact in contacts:
            if not await self.forbids(session, str(contact.get("email", ""))):
                kept.append(contact)
        return kept
