"""The public programme of an edition: filters, German-aware text, distance, paging.

An edition holds hundreds of actions (2018: more than 550), so the filters SQL does
alike on both backends (edition, state, Land, alliance, time, words, a bounding box)
run in SQL, and what is awkward in portable SQL (target groups in a JSON list, the
exact distance) runs on the rows that remain. Text matches like the directory's:
both sides normalised (`lobu.shared.text_search`: ä → ae, ß → ss), every word of
the query the beginning of a word of the action's title, description, place or
alliance name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.events.domain import end_of_day, start_of_day
from lobu.events.models import Action, ActionState, AllianceReplica
from lobu.events.schemas import ActionPage, ActionPublic
from lobu.events.service.editions import load_edition
from lobu.events.service.views import public_view
from lobu.shared import as_utc
from lobu.shared.geo import bounding_box, distance_km
from lobu.shared.pagination import decode_cursor, encode_cursor
from lobu.shared.text_search import query_tokens


@dataclass(frozen=True)
class Near:
    """A point and a radius around it."""

    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class ProgrammeQuery:
    """What the list, the map data and the feeds select."""

    year: int
    states: frozenset[ActionState] = frozenset({ActionState.PUBLISHED})
    land: str | None = None
    alliance_id: str | None = None
    day: dt.date | None = None
    starts_from: dt.datetime | None = None
    starts_until: dt.datetime | None = None
    target_group: str | None = None
    text: str | None = None
    near: Near | None = None
    # Set by the API for a coordinator asking for unpublished states.
    only_alliance: str | None = field(default=None)


@dataclass(frozen=True)
class Found:
    """An action that matched, with its alliance and its distance (with `near`)."""

    action: Action
    alliance: AllianceReplica | None
    distance_km: float | None

    def sort_key(self) -> tuple[float | str, str]:
        """Distance then id with `near`, else start then id."""
        if self.distance_km is not None:
            return (self.distance_km, self.action.id)
        return (as_utc(self.action.starts_at).isoformat(), self.action.id)


class Programme:
    """Finds the actions of an edition."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def find(self, query: ProgrammeQuery) -> list[Found]:
        """Every match, in the list's order."""
        async with self.sessions() as session:
            await load_edition(session, query.year)
            rows = (
                await session.execute(
                    select(Action, AllianceReplica)
                    .outerjoin(AllianceReplica, col(AllianceReplica.id) == col(Action.alliance_id))
                    .where(*self._conditions(query))
                )
            ).all()
        found = [
            Found(action, alliance, _distance(action, query.near))
            for action, alliance in rows
            if query.target_group is None or query.target_group in action.target_groups
        ]
        if query.near is not None:
            radius = query.near.radius_km
            found = [f for f in found if f.distance_km is not None and f.distance_km <= radius]
        return sorted(found, key=Found.sort_key)

    async def page(self, query: ProgrammeQuery, *, cursor: str | None, limit: int) -> ActionPage:
        """One page of matches after `cursor`."""
        found = await self.find(query)
        if cursor:
            types: tuple[type, ...] = (float, str) if query.near else (str, str)
            after = tuple(decode_cursor(cursor, types=types))
            found = [f for f in found if f.sort_key() > after]
        page = found[:limit]
        more = len(found) > limit
        return ActionPage(
            items=[_view(f) for f in page],
            next_cursor=encode_cursor(list(page[-1].sort_key())) if more and page else None,
        )

    @staticmethod
    def _conditions(query: ProgrammeQuery) -> Iterable[ColumnElement[bool]]:
        yield col(Action.edition_year) == query.year
        yield col(Action.state).in_(sorted(state.value for state in query.states))
        if query.only_alliance is not None:
            yield col(Action.alliance_id) == query.only_alliance
        if query.alliance_id is not None:
            yield col(Action.alliance_id) == query.alliance_id
        if query.land is not None:
            yield col(AllianceReplica.state) == query.land
        if query.day is not None:
            # Actions that take place (at least partly) on that day in Berlin.
            yield col(Action.starts_at) < end_of_day(query.day)
            yield col(Action.ends_at) > start_of_day(query.day)
        if query.starts_from is not None:
            yield col(Action.starts_at) >= query.starts_from
        if query.starts_until is not None:
            yield col(Action.starts_at) <= query.starts_until
        if query.text and (tokens := query_tokens(query.text)):
            # A word starts where the normalised text has a space before it.
            spaced = literal(" ") + col(Action.search_text)
            yield and_(*(spaced.contains(f" {token}") for token in tokens))
        if query.near is not None:
            south, north, west, east = bounding_box(
                query.near.latitude, query.near.longitude, query.near.radius_km
            )
            yield col(Action.latitude).between(south, north)
            yield col(Action.longitude).between(west, east)


def _distance(action: Action, near: Near | None) -> float | None:
    if near is None or action.latitude is None or action.longitude is None:
        return None
    return round(distance_km(near.latitude, near.longitude, action.latitude, action.longitude), 3)


def _view(found: Found) -> ActionPublic:
    return public_view(found.action, found.alliance, distance_km=found.distance_km)
