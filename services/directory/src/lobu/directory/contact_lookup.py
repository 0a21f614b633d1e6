"""Which alliances name an address among their contacts (sign-in, privacy requests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from lobu.directory.models import Alliance
from lobu.shared.privacy import normalise_address


def is_contact(contact: dict[str, Any], email: str) -> bool:
    """Whether a stored contact has the (normalised) address `email`."""
    return normalise_address(str(contact.get("email", ""))) == email


async def alliances_with_contact(
    session: AsyncSession, email: str, *, for_update: bool = False
) -> list[Alliance]:
    """The alliances one of whose contacts has the normalised address `email`, by id."""
    # The JSON text as a coarse filter (no index needed for ~300 rows); is_contact decides.
    statement = (
        select(Alliance)
        .where(func.lower(cast(col(Alliance.contacts), Text)).contains(email, autoescape=True))
        .order_by(col(Alliance.id))
    )
    if for_update:
        statement = statement.with_for_update()
    rows = await session.scalars(statement)
    return [row for row in rows if any(is_contact(contact, email) for contact in row.contacts)]
