"""Finding alliances: text, filters, distance, facets and stable keyset pagination.

Text search is German-aware on both backends: the query and the stored `search_text`
are normalised alike (search_text.py). PostgreSQL matches words by prefix with its
`german` full-text configuration (stemming, GIN index); SQLite, the embedded default,
matches each word as a substring of the normalised text.

Order: by distance near a place; with a search term by a relevance tier (name or town
equal to the term, then starting with it, then containing it, then a match elsewhere
only: partners, labels, coordination), then name, then id; otherwise by name and id.
Each order is a keyset whose last column is the id, so pages neither repeat nor skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from pydantic_core import to_json
from sqlalchemy import ColumnElement, and_, bindparam, case, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.directory.models import Alliance, AllianceAward, AlliancePartner, AllianceTopic
from lobu.directory.records import views_of
from lobu.directory.schemas import AllianceFacets, AllianceHit, AlliancePage, AlliancePrivate
from lobu.directory.search_statement import (
    LIMIT,
    PARAMETER_PREFIX,
    FoundPage,
    Shape,
    decode,
    native_statement_for,
    sqlite_rows,
    sqlite_sql,
)
from lobu.shared.geo import bounding_box
from lobu.shared.pagination import decode_cursor, encode_cursor
from lobu.shared.text_search import query_tokens


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
    # False: leave out dissolved alliances unless `status` asks for them (the pages).
    include_dissolved: bool = True


class AllianceSearch:
    """Runs alliance queries on the directory's database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, postgresql: bool) -> None:
        self._sessions = sessions
        self._postgresql = postgresql
        engine: AsyncEngine = sessions.kw["bind"]
        # A page is one statement: no transaction needed around it (docs/performance.md).
        self._engine = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if postgresql else engine
        )

    async def page(self, query: AllianceQuery, *, cursor: str | None, limit: int) -> AlliancePage:
        """One page of hits, the cursor of the next page, the total and the facets."""
        found, next_cursor = await self._found(query, cursor=cursor, limit=limit)
        facets = AllianceFacets.model_construct(state=found.states, topic=found.topics)
        return AlliancePage.model_construct(
            items=[AllianceHit.model_construct(**hit) for hit in found.hits],
            next_cursor=next_cursor,
            total=sum(found.states.values()),
            facets=facets,
        )

    async def page_json(self, query: AllianceQuery, *, cursor: str | None, limit: int) -> bytes:
        """The same page as AlliancePage's JSON, without building and validating models.

        The values come straight from the database's typed columns; pydantic_core prints
        them as AlliancePage would (a test compares the two).
        """
        found, next_cursor = await self._found(query, cursor=cursor, limit=limit)
        return to_json(
            {
                "items": found.hits,
                "next_cursor": next_cursor,
                "total": sum(found.states.values()),
                "facets": {"state": found.states, "topic": found.topics},
            }
        )

    async def _found(
        self, query: AllianceQuery, *, cursor: str | None, limit: int
    ) -> tuple[FoundPage, str | None]:
        shape, values = self._shape_of(query)
        if cursor:
            types = _order_of(query).types
            for n, value in enumerate(decode_cursor(cursor, types=types)):
                values[f"{PARAMETER_PREFIX}after_{n}"] = value
            shape = replace(shape, after=True)
        values[LIMIT] = limit + 1
        # One statement on a connection of its own, without a transaction around it
        # (AUTOCOMMIT on PostgreSQL): one round trip instead of BEGIN … ROLLBACK.
        async with self._engine.connect() as connection:
            if self._postgresql:
                sql, names = native_statement_for(shape)
                driver: Any = (await connection.get_raw_connection()).driver_connection
                # Prepared once per connection and kept by asyncpg.
                rows = await driver.fetch(sql, *(values[name] for name in names))
            else:
                # sqlite3 reads the `:q_…` parameters itself; one hop to aiosqlite's thread.
                driver = (await connection.get_raw_connection()).driver_connection
                rows = sqlite_rows(await driver.execute_fetchall(sqlite_sql(shape), values))
        found = decode(rows, shape.key_count)
        more = len(found.hits) > limit
        hits, hit_keys = found.hits[:limit], found.keys[:limit]
        near = query.near is not None
        for hit, key in zip(hits, hit_keys, strict=True):
            hit["distance_km"] = round(key[0], 3) if near else None
        next_cursor = encode_cursor(hit_keys[-1]) if more and hits else None
        return FoundPage(hits, hit_keys, dict(sorted(found.states.items())),
                         dict(sorted(found.topics.items()))), next_cursor  # fmt: skip

    def _shape_of(self, query: AllianceQuery) -> tuple[Shape, dict[str, Any]]:
        """The statement's shape for `query` and the values of its parameters."""
        values: dict[str, Any] = {}

        def given(name: str, value: Any) -> bool:
            if value:
                values[f"{PARAMETER_PREFIX}{name}"] = value
            return bool(value)

        tokens = query_tokens(query.text) if query.text else []
        if tokens:
            values[f"{PARAMETER_PREFIX}term"] = " ".join(tokens)
            if self._postgresql:
                values[f"{PARAMETER_PREFIX}words"] = " & ".join(f"{t}:*" for t in tokens)
            else:
                for n, token in enumerate(tokens):
                    values[f"{PARAMETER_PREFIX}token_{n}"] = token
        near = query.near
        if near is not None:
            south, north, west, east = bounding_box(near.latitude, near.longitude, near.radius_km)
            values.update(
                {f"{PARAMETER_PREFIX}{name}": value for name, value in (
                    ("south", south), ("north", north), ("west", west), ("east", east),
                    ("latitude", near.latitude), ("longitude", near.longitude),
                    ("radius_km", near.radius_km),
                )}
            )  # fmt: skip
        shape = Shape(
            postgresql=self._postgresql,
            words=len(tokens),
            state=given("state", query.state),
            status=given("status", query.status),
            without_dissolved=not query.status and not query.include_dissolved,
            topic=given("topic", query.topic),
            partner_type=given("type", query.partner_type),
            award=given("award", query.award),
            near=near is not None,
        )
        return shape, values

    async def every(
        self, query: AllianceQuery, *, chunk: int = 500
    ) -> AsyncIterator[tuple[AlliancePrivate, float | None]]:
        """Every match in search order (for exports): keys first, then records a chunk at a time."""
        order = _order_of(query)
        statement = select(*order.keys).where(*self._conditions(query)).order_by(*order.keys)
        near = query.near is not None
        async with self._sessions() as session:
            keys = (await session.execute(statement)).all()
            for start in range(0, len(keys), chunk):
                part = keys[start : start + chunk]
                loaded = await session.scalars(
                    select(Alliance).where(col(Alliance.id).in_([key[-1] for key in part]))
                )
                by_id = {row.id: row for row in loaded}
                views = await views_of(session, [by_id[key[-1]] for key in part])
                for view, key in zip(views, part, strict=True):
                    yield view, (key[0] if near else None)

    def _conditions(self, query: AllianceQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if query.text and (tokens := query_tokens(query.text)):
            conditions.append(self._text_match(tokens))
        if query.state:
            conditions.append(col(Alliance.state) == _value("state", query.state))
        if query.status:
            conditions.append(col(Alliance.status) == _value("status", query.status))
        elif not query.include_dissolved:
            conditions.append(col(Alliance.status) != "dissolved")
        if query.topic:
            conditions.append(
                _has(AllianceTopic, AllianceTopic.topic, _value("topic", query.topic))
            )
        if query.partner_type:
            partner_type = _value("partner_type", query.partner_type)
            conditions.append(_has(AlliancePartner, AlliancePartner.type, partner_type))
        if query.award:
            conditions.append(
                _has(AllianceAward, AllianceAward.award, _value("award", query.award))
            )
        if query.near:
            south, north, west, east = bounding_box(
                query.near.latitude, query.near.longitude, query.near.radius_km
            )
            conditions += [
                col(Alliance.latitude).between(_value("south", south), _value("north", north)),
                col(Alliance.longitude).between(_value("west", west), _value("east", east)),
                _distance(query.near) <= _value("radius_km", query.near.radius_km),
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
                .where(document.op("@@")(func.to_tsquery(german, _value("words", words))))
                .cte("text_matches")
                .prefix_with("MATERIALIZED")
            )
            return col(Alliance.id).in_(select(matches.c.id))
        return and_(
            *(
                col(Alliance.search_text).contains(_value(f"token_{n}", token))
                for n, token in enumerate(tokens)
            )
        )


@dataclass(frozen=True)
class _Order:
    """A keyset: the sort columns (the id last) and the types of their values in a cursor."""

    keys: tuple[Any, ...]
    types: tuple[type, ...]


def _order_of(query: AllianceQuery) -> _Order:
    """Distance near a place; relevance tier, name, id with a term; name, id otherwise."""
    alliance_id = col(Alliance.id)
    if query.near is not None:
        return _Order((_distance(query.near), alliance_id), (float, str))
    tokens = query_tokens(query.text) if query.text else []
    if tokens:
        term = _value("term", " ".join(tokens))
        return _Order((_tier(term), col(Alliance.name), alliance_id), (int, str, str))
    return _Order((col(Alliance.name), alliance_id), (str, str))


def _tier(term: Any) -> Any:
    """0: name or town is the term; 1: starts with it; 2: contains it; 3: a match elsewhere.

    `term` is normalised words ([a-z0-9] and single spaces), so it holds no LIKE wildcard.
    """
    name, place = col(Alliance.name_key), col(Alliance.place_key)
    return case(
        (or_(name == term, place == term), 0),
        (or_(name.startswith(term), place.startswith(term)), 1),
        (or_(name.contains(term), place.contains(term)), 2),
        else_=3,
    ).label("relevance")


# The exports' values travel as named parameters ("q_…"), as the page's do.
def _value(name: str, value: Any) -> Any:
    return bindparam(f"{PARAMETER_PREFIX}{name}", value)


def _distance(near: Near) -> Any:
    return func.lobu_distance_km(
        col(Alliance.latitude),
        col(Alliance.longitude),
        _value("latitude", near.latitude),
        _value("longitude", near.longitude),
    ).label("distance_km")


def _has(table: Any, column: Any, value: Any) -> ColumnElement[bool]:
    return col(Alliance.id).in_(select(table.alliance_id).where(column == value))


def _after(keys: list[Any], last: list[Any]) -> ColumnElement[bool]:
    """Rows after `last` in `keys`: (k1 > v1) or (k1 = v1 and ((k2 > v2) or ...))."""
    values = [_value(f"after_{n}", value) for n, value in enumerate(last)]
    condition: ColumnElement[bool] = keys[-1] > values[-1]
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        condition = or_(key > value, and_(key == value, condition))
    return condition
