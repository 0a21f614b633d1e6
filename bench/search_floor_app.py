"""The raw floor of bench/directory_search.py: the directory's search as one SQL statement.

What the search costs at least on the directory's schema: a FastAPI endpoint on a plain
asyncpg pool (no ORM, no pool pre-ping, statements prepared once per connection) that
runs one statement — a CTE with the matching ids and their order keys (the same
conditions as lobu.directory.search), the page of hits with their topics, partners and
awards as json_agg sub-selects, and both facet counts over the CTE — and serialises
with orjson. It answers the benchmark's paths (q, state, topic, near + radius_km,
limit, cursor) with the JSON the service returns; tests/bench/test_search_floor.py
checks that. PostgreSQL only. Run like the directory:

    LOBU_BENCH_FLOOR_DATABASE_URL=postgresql://… \\
    uvicorn bench.search_floor_app:create_app --factory --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from fastapi import FastAPI, Request, Response

from lobu.shared.geo import bounding_box
from lobu.shared.pagination import decode_cursor, encode_cursor
from lobu.shared.text_search import query_tokens

DATABASE_URL = "LOBU_BENCH_FLOOR_DATABASE_URL"
HIT_COLUMNS = (
    "name", "state", "district", "municipality", "postal_code", "city", "street",
    "latitude", "longitude", "founded_on", "status", "staffing", "website", "social_media",
    "topics", "partners", "awards", "coordinating_organisation", "id", "slug",
    "coordinates_approximate", "version", "created_at", "updated_at",
)  # fmt: skip
CHILD_COLUMNS = ("topics", "partners", "awards")
CHILDREN = """
  (SELECT coalesce(json_agg(t.topic ORDER BY t.position), '[]') FROM alliance_topics t
    WHERE t.alliance_id = a.id) AS topics,
  (SELECT coalesce(json_agg(json_build_object('name', p.name, 'type', p.type)
    ORDER BY p.position), '[]') FROM alliance_partners p WHERE p.alliance_id = a.id) AS partners,
  (SELECT coalesce(json_agg(json_build_object('award', w.award, 'year', w.year)
    ORDER BY w.year), '[]') FROM alliance_awards w WHERE w.alliance_id = a.id) AS awards
"""
TIER = """CASE WHEN name_key = {t} OR place_key = {t} THEN 0
  WHEN name_key LIKE {t} || '%' OR place_key LIKE {t} || '%' THEN 1
  WHEN name_key LIKE '%' || {t} || '%' OR place_key LIKE '%' || {t} || '%' THEN 2
  ELSE 3 END"""


def _statement(params: dict[str, str]) -> tuple[str, list[Any], int]:
    """The SQL, its arguments and the number of order keys (k0 … kN, the id last)."""
    conditions: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    tokens = query_tokens(params.get("q", ""))
    if tokens:
        words = arg(" & ".join(f"{token}:*" for token in tokens))
        conditions.append(
            "id IN (SELECT id FROM alliances WHERE "  # noqa: S608  # placeholders only
            f"to_tsvector('german', search_text) @@ to_tsquery('german', {words}))"
        )
    if "state" in params:
        conditions.append(f"state = {arg(params['state'])}")
    if "topic" in params:
        conditions.append(
            f"id IN (SELECT alliance_id FROM alliance_topics WHERE topic = {arg(params['topic'])})"  # noqa: S608
        )
    if "near" in params:
        latitude, longitude = (float(part) for part in params["near"].split(","))
        radius = float(params.get("radius_km", 25))
        south, north, west, east = bounding_box(latitude, longitude, radius)
        distance = f"lobu_distance_km(latitude, longitude, {arg(latitude)}, {arg(longitude)})"
        conditions += [
            f"latitude BETWEEN {arg(south)} AND {arg(north)}",
            f"longitude BETWEEN {arg(west)} AND {arg(east)}",
            f"{distance} <= {arg(radius)}",
        ]
        types: tuple[type, ...] = (float, str)
        keys = [distance, "id"]
    elif tokens:
        keys, types = (
            [TIER.format(t=arg(" ".join(tokens)) + "::text"), "name", "id"],
            (int, str, str),
        )
    else:
        keys, types = ["name", "id"], (str, str)
    after = "TRUE"
    if cursor := params.get("cursor"):
        last = decode_cursor(cursor, types=types)
        after = f"k{len(keys) - 1} > {arg(last[-1])}"
        for n in range(len(keys) - 2, -1, -1):
            value = arg(last[n])
            after = f"(k{n} > {value} OR (k{n} = {value} AND {after}))"
    labelled = ", ".join(f"{key} AS k{n}" for n, key in enumerate(keys))
    order = ", ".join(f"k{n}" for n in range(len(keys)))
    limit = arg(int(params.get("limit", 50)) + 1)
    where = " AND ".join(conditions) or "TRUE"
    columns = ", ".join(f"a.{name}" for name in HIT_COLUMNS if name not in CHILD_COLUMNS)
    sql = f"""
WITH matches AS MATERIALIZED (SELECT id, state, {labelled} FROM alliances WHERE {where}),
page AS (SELECT * FROM matches WHERE {after} ORDER BY {order} LIMIT {limit})
SELECT 'h' AS kind, row_number() OVER (ORDER BY {order}) AS position, NULL::text AS facet,
  NULL::bigint AS count, row_to_json(hit)::text AS hit
FROM (SELECT {columns}, {CHILDREN}, {order} FROM page JOIN alliances a USING (id)) AS hit
UNION ALL SELECT 's', NULL, state, count(*), NULL FROM matches GROUP BY state
UNION ALL SELECT 't', NULL, t.topic, count(*), NULL
  FROM alliance_topics t JOIN matches m ON m.id = t.alliance_id GROUP BY t.topic
ORDER BY kind, position"""  # noqa: S608  # every value is a bound argument
    return sql, args, len(keys)


def _hit(document: dict[str, Any], keys: list[Any], near: bool) -> dict[str, Any]:
    hit = {name: document[name] for name in HIT_COLUMNS}
    hit["created_at"] = datetime.fromisoformat(hit["created_at"])
    hit["updated_at"] = datetime.fromisoformat(hit["updated_at"])
    hit["distance_km"] = round(keys[0], 3) if near else None
    return hit


def create_app() -> FastAPI:
    """The floor app: /alliances (one statement) and /healthz (for ServiceProcess)."""
    pools: dict[str, asyncpg.Pool] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        url = os.environ[DATABASE_URL].replace("postgresql+asyncpg://", "postgresql://")
        # UTC, so that the JSON timestamps are in UTC, as the service's.
        pools["main"] = await asyncpg.create_pool(
            url, min_size=2, max_size=10, server_settings={"timezone": "UTC"}
        )
        yield
        await pools["main"].close()

    app = FastAPI(title="search floor", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/alliances")
    async def alliances(request: Request) -> Response:
        params = dict(request.query_params)
        sql, args, key_count = _statement(params)
        near = "near" in params
        limit = int(params.get("limit", 50))
        async with pools["main"].acquire() as connection:
            rows = await connection.fetch(sql, *args)  # prepared and cached per connection
        hits, states, topics, last_keys = [], {}, {}, []
        for kind, _position, facet, count, document in rows:
            if kind == "s":
                states[facet] = count
            elif kind == "t":
                topics[facet] = count
            else:
                parsed = orjson.loads(document)
                typed = [parsed[f"k{n}"] for n in range(key_count)]
                hits.append(_hit(parsed, typed, near))
                last_keys.append(typed)
        more = len(hits) > limit
        page = {
            "items": hits[:limit],
            "next_cursor": encode_cursor(last_keys[limit - 1]) if more else None,
            "total": sum(states.values()),
            "facets": {
                "state": dict(sorted(states.items())),
                "topic": dict(sorted(topics.items())),
            },
        }
        # UTC as "…Z" and microseconds as six digits, as the service prints them.
        return Response(orjson.dumps(page, option=orjson.OPT_UTC_Z), media_type="application/json")

    return app
