"""One search page in one statement: the match set once, the page with its child rows, the facets.

The matching alliances, with their order keys, are a CTE that the page, the count per
Land and the count per field of action all read, so the database finds the matches
once, and the application makes one round trip instead of seven. The three parts come
back as the rows of one UNION ALL, told apart by the `kind` column: hits in page
order with their topics, partners and awards as JSON arrays from correlated
sub-selects (json_agg on PostgreSQL, json_group_array on SQLite), then one row per
Land and one per field of action with its count. Every other column is NULL where a
part does not use it; the first branch (the hits) gives each column its type, so
SQLAlchemy turns dates, booleans and JSON back into Python values.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter
from sqlmodel import col

from lobu.directory.models import Alliance, AllianceAward, AlliancePartner, AllianceTopic
from lobu.shared import as_utc

# The alliances-row columns of a hit, in the order AllianceHit prints them.
HIT_COLUMNS = (
    "name", "state", "district", "municipality", "postal_code", "city", "street",
    "latitude", "longitude", "founded_on", "status", "staffing", "website", "social_media",
    "coordinating_organisation", "id", "slug", "coordinates_approximate", "version",
    "created_at", "updated_at",
)  # fmt: skip
CHILDREN = ("topics", "partners", "awards")
# The query's values are parameters named with this prefix (search.py); the page's
# size is LIMIT, given at execution.
PARAMETER_PREFIX = "q_"
LIMIT = f"{PARAMETER_PREFIX}limit"
STATEMENTS_KEPT = 256


class StatementCache:
    """Page statements by the shape of their query, built once and run with new values.

    Building the page's statement (three branches, twenty-odd columns, correlated
    sub-selects) costs more CPU than PostgreSQL needs to run it. Two queries that differ
    only in the values of their named parameters ("q_…") share one statement. The
    shape is SQLAlchemy's cache key of the query's parts, which leaves values out, plus
    the value of every parameter that is *not* named: a literal added later without a
    name makes the cache miss more often, never answer with another query's value.
    """

    def __init__(self, size: int = STATEMENTS_KEPT) -> None:
        self._statements: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._size = size

    def get(self, parts: Sequence[Any], build: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
        """The statement for `parts` (built by `build` when new) and their named values."""
        shape: list[Any] = []
        values: dict[str, Any] = {}
        for part in parts:
            cache_key = part._generate_cache_key()
            shape.append(cache_key.key if cache_key is not None else repr(part))
            for node in visitors.iterate(part):
                if isinstance(node, BindParameter):
                    if str(node.key).startswith(PARAMETER_PREFIX):
                        values[node.key] = node.value
                    else:
                        shape.append(repr(node.value))
        key = tuple(shape)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = build()
            if len(self._statements) > self._size:
                self._statements.popitem(last=False)
        else:
            self._statements.move_to_end(key)
        return statement, values


@dataclass(frozen=True)
class FoundPage:
    """A page as plain values: hits as dicts (AllianceHit's fields), the last keys, the facets."""

    hits: list[dict[str, Any]]
    keys: list[list[Any]]  # the order keys of each hit, for the next page's cursor
    states: dict[str, int]
    topics: dict[str, int]


def matches_of(
    conditions: Sequence[ColumnElement[bool]], keys: Sequence[Any], *, postgresql: bool
) -> Any:
    """The CTE of the matching alliances: id, Land and the order keys as k0 … kN."""
    labelled = [
        (key.element if hasattr(key, "element") else key).label(f"k{n}")
        for n, key in enumerate(keys)
    ]
    matches = (
        select(col(Alliance.id).label("id"), col(Alliance.state).label("state"), *labelled)
        .where(*conditions)
        .cte("matches")
    )
    # PostgreSQL would otherwise inline the CTE into each of its three readers.
    return matches.prefix_with("MATERIALIZED") if postgresql else matches


def key_columns(matches: Any, count: int) -> list[Any]:
    """The CTE's order-key columns k0 … kN."""
    return [matches.c[f"k{n}"] for n in range(count)]


def statement_for(
    matches: Any, after: ColumnElement[bool] | None, *, postgresql: bool
) -> CompoundSelect[*tuple[Any, ...]]:
    """Hits (page order), then counts per Land and per field of action, as one UNION ALL."""
    keys = [column for name, column in matches.c.items() if name.startswith("k")]
    page = select(matches)
    if after is not None:
        page = page.where(after)
    page_cte = page.order_by(*keys).limit(bindparam(LIMIT, type_=Integer)).cte("page")
    page_keys = [page_cte.c[column.name] for column in keys]
    hits = (
        select(
            literal("h", String).label("kind"),
            func.row_number().over(order_by=page_keys).label("position"),
            cast(null(), String).label("facet"),
            cast(null(), Integer).label("count"),
            *(getattr(Alliance, name) for name in HIT_COLUMNS),
            _children(AllianceTopic, page_cte.c.id, postgresql, "topic").label("topics"),
            _children(AlliancePartner, page_cte.c.id, postgresql, "name", "type").label("partners"),
            _children(AllianceAward, page_cte.c.id, postgresql, "award", "year").label("awards"),
            *page_keys,
        )
        .select_from(page_cte)
        .join(Alliance, col(Alliance.id) == page_cte.c.id)
    )
    blanks = [null() for _ in (*HIT_COLUMNS, *CHILDREN, *page_keys)]
    states = select(literal("s"), null(), matches.c.state, func.count(), *blanks).group_by(
        matches.c.state
    )
    topics = (
        select(literal("t"), null(), col(AllianceTopic.topic), func.count(), *blanks)
        .join(matches, col(AllianceTopic.alliance_id) == matches.c.id)
        .group_by(col(AllianceTopic.topic))
    )
    return union_all(hits, states, topics).order_by(
        literal_column("kind"), literal_column("position")
    )


def _children(table: Any, alliance_id: Any, postgresql: bool, *fields: str) -> Any:
    """A JSON array of one alliance's child rows in their order (a value or an object each)."""
    order = col(table.year) if table is AllianceAward else col(table.position)
    columns = [getattr(table, field) for field in fields]
    if postgresql:
        pairs: list[Any] = []
        for field, column in zip(fields, columns, strict=True):
            pairs += [literal_column(f"'{field}'"), column]
        element = columns[0] if len(columns) == 1 else func.json_build_object(*pairs)
        aggregated = func.coalesce(
            func.json_agg(aggregate_order_by(element, order)), literal_column("'[]'::json")
        )
        return select(aggregated).where(col(table.alliance_id) == alliance_id).scalar_subquery()
    # SQLite (3.40 has no ORDER BY inside an aggregate): aggregate an ordered sub-select.
    rows = (
        select(*columns)
        .where(col(table.alliance_id) == alliance_id)
        .order_by(order)
        .correlate_except(table)  # alliance_id is the enclosing row's: no FROM of its own
        .subquery()
    )
    element = (
        rows.c[fields[0]]
        if len(fields) == 1
        else func.json_object(
            *(part for field in fields for part in (literal_column(f"'{field}'"), rows.c[field]))
        )
    )
    return select(func.json_group_array(element)).select_from(rows).scalar_subquery()


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
            values = row[4 : 4 + len(HIT_COLUMNS)]
            hit = dict(zip(HIT_COLUMNS, values, strict=True))
            hit["created_at"] = as_utc(hit["created_at"])
            hit["updated_at"] = as_utc(hit["updated_at"])
            children = row[4 + len(HIT_COLUMNS) : 4 + len(HIT_COLUMNS) + len(CHILDREN)]
            for name, value in zip(CHILDREN, children, strict=True):
                hit[name] = from_json(value) if isinstance(value, str | bytes) else value
            hits.append(hit)
            keys.append(list(row[len(row) - key_count :]))
    return FoundPage(hits=hits, keys=keys, states=states, topics=topics)
