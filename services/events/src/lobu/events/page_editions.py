"""Which edition the self-service pages show: the one asked for, else the current or next."""

from __future__ import annotations

from lobu.events.domain import BERLIN
from lobu.events.schemas import EditionPublic
from lobu.events.service import Editions
from lobu.shared import utc_now

# The lifecycle states as the pages name them.
STATE_LABELS = {
    "draft": "Entwurf",
    "submitted": "eingereicht",
    "published": "veröffentlicht",
    "rejected": "abgelehnt",
    "cancelled": "abgesagt",
}


async def chosen_edition(
    editions: Editions, asked: str | None
) -> tuple[EditionPublic | None, list[EditionPublic]]:
    """(the edition to show, every edition newest first).

    Without `jahr` (or with one that has no edition): the edition whose day is today or
    next, else the newest one; None when there is no edition at all.
    """
    every = await editions.all()
    if asked and asked.isdigit():
        for edition in every:
            if edition.year == int(asked):
                return edition, every
    today = utc_now().astimezone(BERLIN).date()
    coming = [edition for edition in every if edition.date >= today]
    if coming:
        return min(coming, key=lambda edition: edition.date), every
    return (every[0] if every else None), every
