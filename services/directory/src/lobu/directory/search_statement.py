"""One search page in one statement: the match set once, the page with its child rows, the facets.

The matching alliances, with their order keys, are a CTE that the page, the count per
Land and the count per field of action all read, so the database finds the matches
once, and the application makes one round trip. The three parts come back as the rows
of one UNION ALL, told apart by the `kind` column: hits in page order with their
topics, partners and awards as JSON texts from correlated sub-selects (json_agg on
PostgreSQL, json_group_array on SQLite), then one row per Land and one per field of
action with its count.

The statement is SQL text, written once per *shape* of query (which filters, a text
match of how many words, a cursor or not) and kept: building it from SQLAlchemy
constructs and computing their cache keys cost more CPU than the database needs to
run it (docs/performance.md). Every value is a bound parameter; the conditions are
the ones `AllianceSearch._conditions` gives the exports (tests compare the two). It
runs on the driver of one of the engine's pooled connections (asyncpg with `$n`
placeholders, sqlite3 with the `:q_…` names), which returns the values ready (SQLite's
dates, booleans and datetimes converted here), without SQLAlchemy's execution and
result layers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from pydantic_core import from_json

from lobu.shared import as_utc

# The alliances-row columns of a hit, in the order AllianceHit prints them.
HIT_COLUMNS = (
    "name", "state", "district", "municipality", "postal_code", "city", "street",
    "latitude", "longitude", "founded_on", "status", "staffing", "website", "social_media",
    "coordinating_organisation", "id", "slug", "coordinates_approximate", "version",
    "created_at", "updated_at",
)  # fmt: skip
CHILDREN = ("topics", "partners", "awards")
# The query's values are parameters named with this prefix; the page's size is LIMIT.
PARAMETER_PREFIX = "q_"
LIMIT = f"{PARAMETER_PREFIX}limit"
# Where a hit's values sit in a row: kind, position, facet, count, the hit's columns,
# its children (JSON texts), then the order keys.
_FIRST = 4
_CHILD = _FIRST + len(HIT_COLUMNS)
_KEYS = _CHILD + len(CHILDREN)
_SOCIAL = _FIRST + HIT_COLUMNS.index("social_media")
_CREATED = _FIRST + HIT_COLUMNS.index("created_at")
_FOUNDED = _FIRST + HIT_COLUMNS.index("founded_on")
_APPROXIMATE = _FIRST + HIT_COLUMNS.index("coordinates_approximate")
_UPDATED = _FIRST + HIT_COLUMNS.index("updated_at")


@dataclass(frozen=True)
class Shape:
    """What decides the statement's text; the values travel as parameters."""

    postgresql: bool
    words: int = 0  # words of the text match (0: none)
    state: bool = False
    status: bool = False
    without_dissolved: bool = False
    topic: bool = False
    partner_type: bool = False
    award: bool = False
    near: bool = False
    after: bool = False  # a cursor: the rows after its keys

    @property
    def key_count(self) -> int:
        """Order keys: distance, id near a place; tier, name, id with words; name, id."""
        return 2 if self.near or not self.words else 3


@dataclass(frozen=True)
class FoundPage:
    """A page as plain values: hits as dicts (AllianceHit's fields), the last keys, the facets."""

    hits: list[dict[str, Any]]
    keys: list[list[Any]]  # the order keys of each hit, for the next page's cursor
    states: dict[str, int]
    topics: dict[str, int]


def _p(name: str) -> str:
    return f":{PARAMETER_PREFIX}{name}"


def _conditions(shape: Shape) -> list[str]:
    conditions: list[str] = []
    if shape.words and shape.postgresql:
        # The expression of the GIN index ix_alliances_search.
        conditions.append(
            "to_tsvector('german', a.search_text) @@ "
            f"to_tsquery('german', CAST({_p('words')} AS TEXT))"
        )
    elif shape.words:
        conditions += [
            f"a.search_text LIKE '%' || {_p(f'token_{n}')} || '%'" for n in range(shape.words)
        ]
    if shape.state:
        conditions.append(f"a.state = {_p('state')}")
    if shape.status:
        conditions.append(f"a.status = {_p('status')}")
    elif shape.without_dissolved:
        conditions.append("a.status != 'dissolved'")
    for wanted, table, column in (
        (shape.topic, "alliance_topics", "topic"),
        (shape.partner_type, "alliance_partners", "type"),
        (shape.award, "alliance_awards", "award"),
    ):
        if wanted:
            conditions.append(
                f"a.id IN (SELECT alliance_id FROM {table} WHERE {column} = {_p(column)})"  # noqa: S608
            )
    if shape.near:
        conditions += [
            f"a.latitude BETWEEN {_p('south')} AND {_p('north')}",
            f"a.longitude BETWEEN {_p('west')} AND {_p('east')}",
            f"{_distance()} <= {_p('radius_km')}",
        ]
    return conditions


def _distance() -> str:
    return f"lobu_distance_km(a.latitude, a.longitude, {_p('latitude')}, {_p('longitude')})"


def _keys(shape: Shape) -> list[str]:
    if shape.near:
        return [_distance(), "a.id"]
    if shape.words:
        term = f"CAST({_p('term')} AS TEXT)" if shape.postgresql else _p("term")
        # 0: name or town is the term; 1: starts with it; 2: contains it; 3: elsewhere.
        # The term is normalised words ([a-z0-9] and spaces): no LIKE wildcard in it.
        tier = (
            f"CASE WHEN a.name_key = {term} OR a.place_key = {term} THEN 0 "
            f"WHEN a.name_key LIKE {term} || '%' OR a.place_key LIKE {term} || '%' THEN 1 "
            f"WHEN a.name_key LIKE '%' || {term} || '%' OR a.place_key LIKE '%' || {term} || '%' "
            "THEN 2 ELSE 3 END"
        )
        return [tier, "a.name", "a.id"]
    return ["a.name", "a.id"]


def _after(count: int) -> str:
    """Rows after the cursor's keys: (k0 > v0) or (k0 = v0 and ((k1 > v1) or ...))."""
    condition = f"k{count - 1} > {_p(f'after_{count - 1}')}"
    for n in range(count - 2, -1, -1):
        value = _p(f"after_{n}")
        condition = f"(k{n} > {value} OR (k{n} = {value} AND {condition}))"
    return condition


def _children(postgresql: bool) -> list[str]:
    """Each hit's topics (kept on its row), partners and awards, in their order, as JSON texts."""
    if postgresql:
        return [
            "CAST(a.topic_codes AS TEXT)",
            "CAST((SELECT coalesce(json_agg(json_build_object('name', p.name, 'type', p.type) "
            "ORDER BY p.position), '[]') FROM alliance_partners p "
            "WHERE p.alliance_id = a.id) AS TEXT)",
            "CAST((SELECT coalesce(json_agg(json_build_object('award', w.award, 'year', w.year) "
            "ORDER BY w.year), '[]') FROM alliance_awards w WHERE w.alliance_id = a.id) AS TEXT)",
        ]
    # SQLite has no ORDER BY inside an aggregate: aggregate an ordered sub-select, and
    # build the objects outside it (a JSON value loses its JSON-ness through a sub-select).
    return [
        "a.topic_codes",
        "(SELECT json_group_array(json_object('name', p.name, 'type', p.type)) FROM "
        "(SELECT name, type FROM alliance_partners WHERE alliance_id = a.id ORDER BY position) "
        "AS p)",
        "(SELECT json_group_array(json_object('award', w.award, 'year', w.year)) FROM "
        "(SELECT award, year FROM alliance_awards WHERE alliance_id = a.id ORDER BY year) AS w)",
    ]


@lru_cache(maxsize=256)
def _sql(shape: Shape) -> str:
    keys = _keys(shape)
    names = [f"k{n}" for n in range(len(keys))]
    order = ", ".join(names)
    labelled = ", ".join(f"{key} AS {name}" for key, name in zip(keys, names, strict=True))
    where = " AND ".join(_conditions(shape)) or "1 = 1"
    after = f"WHERE {_after(len(keys))}" if shape.after else ""
    materialised = "MATERIALIZED " if shape.postgresql else ""
    social = "CAST(a.social_media AS TEXT)" if shape.postgresql else "a.social_media"
    columns = ", ".join(
        social + " AS social_media" if name == "social_media" else f"a.{name}"
        for name in HIT_COLUMNS
    )
    children = ", ".join(
        f"{child} AS {name}"
        for child, name in zip(_children(shape.postgresql), CHILDREN, strict=True)
    )
    blanks = ", ".join("NULL" for _ in (*HIT_COLUMNS, *CHILDREN, *names))
    page_keys = ", ".join(f"page.{name}" for name in names)
    # The topic facet counts the codes on the matches' rows (no join over alliance_topics).
    topic_facet = (
        f"x.topic, count(*), {blanks} FROM matches m "
        "CROSS JOIN LATERAL json_array_elements_text(m.topic_codes) AS x(topic) GROUP BY x.topic"
        if shape.postgresql
        else f"x.value, count(*), {blanks} FROM matches m, json_each(m.topic_codes) AS x "
        "GROUP BY x.value"
    )
    sql = f"""WITH matches AS {materialised}(SELECT a.id AS id, a.state AS state,
  a.topic_codes AS topic_codes, {labelled}
  FROM alliances a WHERE {where}),
page AS (SELECT * FROM matches {after} ORDER BY {order} LIMIT {_p("limit")})
SELECT 'h' AS kind, row_number() OVER (ORDER BY {page_keys}) AS position,
  CAST(NULL AS TEXT) AS facet, CAST(NULL AS INTEGER) AS count, {columns}, {children}, {page_keys}
FROM page JOIN alliances a ON a.id = page.id
UNION ALL SELECT 's', NULL, state, count(*), {blanks} FROM matches GROUP BY state
UNION ALL SELECT 't', NULL, {topic_facet}
ORDER BY kind, position"""  # noqa: S608  # every value is a bound parameter
    return sql


@lru_cache(maxsize=256)
def native_statement_for(shape: Shape) -> tuple[str, tuple[str, ...]]:
    """The same statement for asyncpg itself: `$n` placeholders, and their parameters' names.

    PostgreSQL's rows need no conversion (asyncpg returns dates, booleans and aware
    datetimes; the JSON comes as text), so the page can skip SQLAlchemy's execution and
    result layers, which cost more app CPU than the rest of the search.
    """
    names: list[str] = []

    def placeholder(found: re.Match[str]) -> str:
        if found.group(1) not in names:
            names.append(found.group(1))
        return f"${names.index(found.group(1)) + 1}"

    sql = _PARAMETER.sub(placeholder, _sql(shape))
    return sql, tuple(names)


def sqlite_sql(shape: Shape) -> str:
    """The statement for sqlite3 itself, which reads the `:q_…` parameters as they are."""
    return _sql(shape)


def sqlite_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """SQLite's hit rows with the values SQLAlchemy's types would give (date, bool, datetime).

    SQLite stores them as text and integers: dates as `YYYY-MM-DD`, booleans as 0/1,
    datetimes as `YYYY-MM-DD HH:MM:SS.ffffff` in UTC (as_utc adds the zone in decode).
    """
    converted: list[list[Any]] = []
    for row in rows:
        values = list(row)
        if values[0] == "h":
            founded = values[_FOUNDED]
            values[_FOUNDED] = date.fromisoformat(founded) if founded is not None else None
            values[_APPROXIMATE] = bool(values[_APPROXIMATE])
            values[_CREATED] = datetime.fromisoformat(values[_CREATED])
            values[_UPDATED] = datetime.fromisoformat(values[_UPDATED])
        converted.append(values)
    return converted


_PARAMETER = re.compile(rf"(?<![:\w]):({PARAMETER_PREFIX}\w+)")


def decode(rows: Sequence[Any], key_count: int) -> FoundPage:
    """The statement's rows as a FoundPage."""
    hits: list[dict[str, Any]] = []
    keys: list[list[Any]] = []
    states: dict[str, int] = {}
    topics: dict[str, int] = {}
    for row in rows:
        kind = row[0]
        if kind == "s":
            states[row[2]] = row[3]
        elif kind == "t":
            topics[row[2]] = row[3]
        else:
            values = list(row[_FIRST:_CHILD])
            hit = dict(zip(HIT_COLUMNS, values, strict=True))
            hit["social_media"] = _json(row[_SOCIAL])
            hit["created_at"] = as_utc(row[_CREATED])
            hit["updated_at"] = as_utc(row[_UPDATED])
            for name, value in zip(CHILDREN, row[_CHILD:_KEYS], strict=True):
                hit[name] = _json(value)
            hits.append(hit)
            keys.append(list(row[_KEYS : _KEYS + key_count]))
    return FoundPage(hits=hits, keys=keys, states=states, topics=topics)


def _json(value: Any) -> Any:
    return from_json(value) if isinstance(value, str | bytes) else value
