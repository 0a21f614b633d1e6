"""Finding alliances: text, filters, distance, facets and stable keyset pagination.

Text search is German-aware on both backends: the query and the stored `search_text`
are normalised alike (search_text.py). PostgreSQL matches words by prefix with its
`german` full-text configuration (stemming, GIN index); SQLite, the embedded default,
matches each word as a substring of the normalised text. Results are ordered by name
(or by distance when searching near a place), never by a score, so that pages stay
stable while data changes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.geo import bounding_box
from lobu.directory.models import Alliance, AllianceAward, AlliancePartner, AllianceTopic
from lobu.directory.records import views_of
from lobu.directory.schemas import AllianceFacets, AllianceHit, AlliancePage, AlliancePrivate
from lobu.directory.search_text import query_tokens
from lobu.shared.pagination import decode_cursor, encode_cursor


@dataclass(frozen=True)
class Near:
    """A place and a radius around it."""

    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True)
class AllianceQuery:
    """What a search asks for; every part is optional."""

    text: str | None = None
    state: str | None = None
    topic: str | None = None
    partner_type: str | None = None
    status: str | None = None
    award: str | None = None
    near: Near | None = None


class AllianceSearch:
    """Runs alliance queries on the directory's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, postgresql: bool) -> None:
        self._sessions = sessions
        self._postgresql = postgresql

    async def page(self, query: AllianceQuery, *, cursor: str | None, limit: int) -> AlliancePage:
        """One page of hits, the cursor of the next page, the total and the facets."""
        conditions = self._conditions(query)
        distance = _distance(query.near)
        statement = select(Alliance, distance) if distance is not None else select(Alliance)
        statement = statement.where(*conditions)
        if cursor:
            statement = statement.where(_after(cursor, distance))
        order = (distance, col(Alliance.id)) if distance is not None else _name_order()
        statement = statement.order_by(*order).limit(limit + 1)
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
            more = len(rows) > limit
            rows = rows[:limit]
            views = await views_of(session, [row[0] for row in rows])
            facets, total = await self._facets(session, conditions)
        hits = [
            AllianceHit.model_validate(
                view.model_dump(exclude={"contacts"})
                | {"distance_km": round(row[1], 3) if distance is not None else None}
            )
            for view, row in zip(views, rows, strict=True)
        ]
        next_cursor = None
        if more and rows:
            last_row, last = rows[-1], views[-1]
            key = [last_row[1], last.id] if distance is not None else [last.name, last.id]
            next_cursor = encode_cursor(key)
        return AlliancePage(items=hits, next_cursor=next_cursor, total=total, facets=facets)

    async def every(
        self, query: AllianceQuery, *, chunk: int = 500
    ) -> AsyncIterator[tuple[AlliancePrivate, float | None]]:
        """Every match in search order (for exports): keys first, then records a chunk at a time."""
        distance = _distance(query.near)
        key_columns = (col(Alliance.id), distance) if distance is not None else (col(Alliance.id),)
        order = (distance, col(Alliance.id)) if distance is not None else _name_order()
        statement = select(*key_columns).where(*self._conditions(query)).order_by(*order)
        async with self._sessions() as session:
            keys = (await session.execute(statement)).all()
            for start in range(0, len(keys), chunk):
                part = keys[start : start + chunk]
                loaded = await session.scalars(
                    select(Alliance).where(col(Alliance.id).in_([key[0] for key in part]))
                )
                by_id = {row.id: row for row in loaded}
                views = await views_of(session, [by_id[key[0]] for key in part])
                for view, key in zip(views, part, strict=True):
                    yield view, (key[1] if distance is not None else None)

    def _conditions(self, query: AllianceQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if query.text and (tokens := query_tokens(query.text)):
            conditions.append(self._text_match(tokens))
        if query.state:
            conditions.append(col(Alliance.state) == query.state)
        if query.status:
            conditions.append(col(Alliance.status) == query.status)
        if query.topic:
            conditions.append(_has(AllianceTopic, AllianceTopic.topic, query.topic))
        if query.partner_type:
            conditions.append(_has(AlliancePartner, AlliancePartner.type, query.partner_type))
        if query.award:
            conditions.append(_has(AllianceAward, AllianceAward.award, query.award))
        if query.near:
            south, north, west, east = bounding_box(
                query.near.latitude, query.near.longitude, query.near.radius_km
            )
            conditions += [
                col(Alliance.latitude).between(south, north),
                col(Alliance.longitude).between(west, east),
                _distance(query.near) <= query.near.radius_km,
            ]
        return conditions

    def _text_match(self, tokens: list[str]) -> ColumnElement[bool]:
        if self._postgresql:
            # Literal 'german', so that the expression is the one the GIN index was built on.
            german: Any = literal_column("'german'")
            document = func.to_tsvector(german, col(Alliance.search_text))
            words = " & ".join(f"{token}:*" for token in tokens)  # tokens are [a-z0-9]+
            # A materialised CTE makes PostgreSQL find the matches through the GIN index
            # first; otherwise it tends to walk the name index and compute to_tsvector
            # for row after row (docs/performance.md).
            matches = (
                select(col(Alliance.id))
                .where(document.op("@@")(func.to_tsquery(german, words)))
                .cte("text_matches")
                .prefix_with("MATERIALIZED")
            )
            return col(Alliance.id).in_(select(matches.c.id))
        return and_(*(col(Alliance.search_text).contains(token) for token in tokens))

    async def _facets(
        self, session: AsyncSession, conditions: list[ColumnElement[bool]]
    ) -> tuple[AllianceFacets, int]:
        matching = select(col(Alliance.id)).where(*conditions)
        by_state = await session.execute(
            select(col(Alliance.state), func.count())
            .where(*conditions)
            .group_by(col(Alliance.state))
        )
        by_topic = await session.execute(
            select(col(AllianceTopic.topic), func.count())
            .where(col(AllianceTopic.alliance_id).in_(matching))
            .group_by(col(AllianceTopic.topic))
        )
        states = {state: count for state, count in by_state}
        facets = AllianceFacets(
            state=dict(sorted(states.items())), topic=dict(sorted((t, c) for t, c in by_topic))
        )
        return facets, sum(states.values())


def _name_order() -> tuple[Any, Any]:
    return col(Alliance.name), col(Alliance.id)


def _distance(near: Near | None) -> Any:
    if near is None:
        return None
    return func.lobu_distance_km(
        col(Alliance.latitude), col(Alliance.longitude), near.latitude, near.longitude
    ).label("distance_km")


def _has(table: Any, column: Any, value: str) -> ColumnElement[bool]:
    return col(Alliance.id).in_(select(table.alliance_id).where(column == value))


def _after(cursor: str, distance: Any) -> ColumnElement[bool]:
    """Rows after the cursor's sort key: (name, id), or (distance, id) near a place."""
    if distance is not None:
        last_distance, last_id = decode_cursor(cursor, types=(float, str))
        expression = distance.element  # the function call, not its label
        return or_(
            expression > last_distance,
            and_(expression == last_distance, col(Alliance.id) > last_id),
        )
    last_name, last_id = decode_cursor(cursor, types=(str, str))
    return or_(
        col(Alliance.name) > last_name,
        and_(col(Alliance.name) == last_name, col(Alliance.id) > last_id),
    )
