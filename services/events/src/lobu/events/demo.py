"""A demo edition for the next 15 May with actions of the demo alliances (`make run`).

The alliances come from the directory through the replica, so the loader waits until
the replica holds them (the directory loads its demo alliances at its own start), then
enters, submits and publishes the actions through the ordinary use cases, as the
system user `demo-data`. It loads nothing if an edition exists already.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import BERLIN, default_edition_date
from lobu.events.models import AllianceReplica, Edition
from lobu.events.schemas import ActionCreate, EditionCreate
from lobu.events.service import Actions, Editions
from lobu.shared import Caller, Role, utc_now

logger = logging.getLogger(__name__)

DEMO_ACTOR = Caller(subject="demo-data", role=Role.ADMIN)
# Fewer alliances than this in the replica: the directory is still publishing.
MINIMUM_ALLIANCES = 20

# (title, description, start hour, hours, target groups)
IDEAS: list[tuple[str, str, int, int, list[str]]] = [
    ("Familienfest auf dem Marktplatz", "Spiele, Musik und Infostände der Bündnispartner.",
     11, 5, ["familien", "kinder"]),
    ("Vorlesestunde in der Stadtbibliothek", "Geschichten für Kinder von drei bis acht Jahren.",
     10, 2, ["kinder", "eltern"]),
    ("Väterfrühstück", "Austausch für Väter über Familie und Beruf.", 9, 2, ["eltern"]),
    ("Infoabend: Beruf und Familie vereinbaren", "Arbeitgeber stellen flexible Modelle vor.",
     18, 2, ["beschaeftigte", "unternehmen"]),
    ("Generationen-Picknick im Park", "Jung und Alt an einem Tisch.", 12, 3,
     ["familien", "grosseltern", "senioren"]),
    ("Spielplatz-Rallye", "Eine Rallye über die Spielplätze der Stadt.", 14, 3,
     ["kinder", "familien"]),
    ("Elterncafé", "Offener Treff mit Beratung der Familienberatungsstelle.", 15, 2,
     ["eltern", "alleinerziehende"]),
    ("Familienradtour", "Eine gemütliche Runde für alle ab sechs Jahren.", 10, 3,
     ["familien", "jugendliche"]),
]  # fmt: skip


def next_day_of_families(today: dt.date) -> dt.date:
    """The next 15 May from `today` (today itself included)."""
    this_year = default_edition_date(today.year)
    return this_year if today <= this_year else default_edition_date(today.year + 1)


async def _alliances(sessions: async_sessionmaker[AsyncSession]) -> list[AllianceReplica]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(AllianceReplica)
                .where(col(AllianceReplica.deleted).is_(False),
                       col(AllianceReplica.status) != "dissolved")
                .order_by(col(AllianceReplica.slug))
            )
        )  # fmt: skip


async def _replica_size(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(AllianceReplica)) or 0)


async def load_demo_data_when_ready(
    sessions: async_sessionmaker[AsyncSession],
    editions: Editions,
    actions: Actions,
    *,
    wait_seconds: float,
    poll_seconds: float = 2.0,
) -> int:
    """Wait for the replica to fill and settle, then load the demo; the actions loaded."""
    async with sessions() as session:
        if await session.scalar(select(func.count()).select_from(Edition)):
            return 0
    waited, last = 0.0, -1
    while waited <= wait_seconds:
        size = await _replica_size(sessions)
        if size >= MINIMUM_ALLIANCES and size == last:
            break
        last = size
        await asyncio.sleep(poll_seconds)
        waited += poll_seconds
    else:
        logger.warning("no demo actions: the replica of the directory has %d alliances", last)
        return 0
    return await load_demo_data(editions, actions, await _alliances(sessions))


async def load_demo_data(
    editions: Editions, actions: Actions, alliances: list[AllianceReplica]
) -> int:
    """The edition and about four actions for every five alliances, some with capacity."""
    day = next_day_of_families(utc_now().astimezone(BERLIN).date())
    await editions.create(
        EditionCreate(year=day.year, date=day, motto="Familie verbindet",
                      info="Am Internationalen Tag der Familie laden die Lokalen Bündnisse ein.")
    )  # fmt: skip
    loaded = 0
    for index, alliance in enumerate(alliances):
        if index % 5 == 4 or alliance.latitude is None or alliance.longitude is None:
            continue
        for number in range(1 + (index % 7 == 0)):
            title, description, hour, hours, groups = IDEAS[(index + number * 3) % len(IDEAS)]
            starts = dt.datetime.combine(day, dt.time(hour), BERLIN)
            with_capacity = (index + number) % 3 == 0
            request = ActionCreate(
                alliance_id=alliance.id,
                title=title,
                description=description,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=hours),
                postal_code=alliance.postal_code or None,
                city=alliance.city,
                latitude=round(alliance.latitude + 0.002 * ((index % 5) - 2), 5),
                longitude=round(alliance.longitude + 0.002 * ((index % 3) - 1), 5),
                target_groups=groups,
                capacity=20 + 10 * (index % 4) if with_capacity else None,
                registration_required=with_capacity,
            )
            created = await actions.create(day.year, request, actor=DEMO_ACTOR)
            await actions.submit(created.id, actor=DEMO_ACTOR)
            await actions.publish(created.id, actor=DEMO_ACTOR)
            loaded += 1
    logger.info("loaded a demo edition %d with %d actions", day.year, loaded)
    return loaded
