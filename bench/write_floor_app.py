"""The floor of bench/pipeline_writes.py: an HTTP write that is one plain INSERT.

A FastAPI endpoint `POST /alliances` that validates the directory's own request body
(`AllianceCreate`, labels and all) and stores it with one INSERT on a plain asyncpg
pool: no ORM, no outbox, no authentication, no events. What the directory does beyond
that (its rows, the outbox rows in the same transaction, the token check, the relay
publishing them) is what the figure `pipeline.http_write.ratio_to_floor` prices.

    LOBU_BENCH_WRITE_FLOOR_DATABASE_URL=postgresql://… \\
    uvicorn bench.write_floor_app:create_app --factory --host 127.0.0.1 --port 8000
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI

from lobu.directory.schemas import AllianceCreate

DATABASE_URL = "LOBU_BENCH_WRITE_FLOOR_DATABASE_URL"
TABLE = (
    "CREATE TABLE IF NOT EXISTS floor_alliances "
    "(id varchar(36) PRIMARY KEY, name text NOT NULL, body jsonb NOT NULL)"
)
INSERT = "INSERT INTO floor_alliances VALUES ($1, $2, $3)"


def create_app() -> FastAPI:
    """The floor app; the database URL comes from LOBU_BENCH_WRITE_FLOOR_DATABASE_URL."""
    url = os.environ[DATABASE_URL].replace("postgresql+asyncpg://", "postgresql://")
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(url, min_size=2, max_size=10)
        async with pool.acquire() as connection:
            await connection.execute(TABLE)
        state["pool"] = pool
        yield
        await pool.close()

    app = FastAPI(title="one INSERT", lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/alliances", status_code=201)
    async def create(body: AllianceCreate) -> dict[str, Any]:
        alliance_id = str(uuid.uuid4())
        async with state["pool"].acquire() as connection:
            await connection.execute(INSERT, alliance_id, body.name, body.model_dump_json())
        return {"id": alliance_id, "name": body.name}

    return app
