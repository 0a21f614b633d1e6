"""Editions of the Aktionstag: one per year (admin)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import default_edition_date, end_of_day
from lobu.events.errors import EditionExistsError, EditionNotFoundError
from lobu.events.models import Edition
from lobu.events.schemas import EditionCreate, EditionPublic, EditionUpdate
from lobu.shared import as_utc, transaction, utc_now


def edition_view(edition: Edition) -> EditionPublic:
    """An edition, with whether its entry window is open now."""
    opens, closes = as_utc(edition.entry_opens_at), as_utc(edition.entry_closes_at)
    return EditionPublic(
        year=edition.year,
        date=edition.date,
        motto=edition.motto,
        info=edition.info,
        entry_opens_at=opens,
        entry_closes_at=closes,
        entry_open=opens <= utc_now() < closes,
    )


async def load_edition(session: AsyncSession, year: int) -> Edition:
    """The edition of `year`; EditionNotFoundError if there is none."""
    edition = await session.get(Edition, year)
    if edition is None:
        raise EditionNotFoundError(f"There is no edition {year}.")
    return edition


class Editions:
    """Creates, changes and lists editions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def create(self, request: EditionCreate) -> EditionPublic:
        """A new edition; 409 when the year has one."""
        day = request.date or default_edition_date(request.year)
        now = utc_now()
        edition = Edition(
            year=request.year,
            date=day,
            motto=request.motto,
            info=request.info,
            entry_opens_at=as_utc(request.entry_opens_at) if request.entry_opens_at else now,
            entry_closes_at=(
                as_utc(request.entry_closes_at) if request.entry_closes_at else end_of_day(day)
            ),
            created_at=now,
            updated_at=now,
        )
        try:
            async with transaction(self.sessions) as session:
                if await session.get(Edition, request.year) is not None:
                    raise EditionExistsError(f"There is already an edition {request.year}.")
                session.add(edition)
        except IntegrityError:  # two admins at once: the primary key decides
            raise EditionExistsError(f"There is already an edition {request.year}.") from None
        return edition_view(edition)

    async def update(self, year: int, change: EditionUpdate) -> EditionPublic:
        """Change what was sent."""
        async with transaction(self.sessions) as session:
            edition = await load_edition(session, year)
            for name, value in change.model_dump(exclude_unset=True).items():
                if value is None and name in ("date", "entry_opens_at", "entry_closes_at"):
                    continue  # these always have a value
                if isinstance(value, dt.datetime):
                    value = as_utc(value)  # stored in UTC (SQLite keeps no offset)
                setattr(edition, name, value)
            edition.updated_at = utc_now()
            return edition_view(edition)

    async def get(self, year: int) -> EditionPublic:
        """One edition."""
        async with self.sessions() as session:
            return edition_view(await load_edition(session, year))

    async def all(self) -> list[EditionPublic]:
        """Every edition, newest first."""
        async with self.sessions() as session:
            rows = await session.scalars(select(Edition).order_by(col(Edition.year).desc()))
            return [edition_view(row) for row in rows]
