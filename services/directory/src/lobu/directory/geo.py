"""Distances in SQL on both backends: SQLite gets `lobu_distance_km` from Python.

PostgreSQL has the same haversine as a SQL function (migration 0002); the formula
itself, and the bounding box that pre-filters by an index, are `lobu.shared.geo`'s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from lobu.shared.geo import distance_km


def _sql_distance(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float | None:
    if None in (lat1, lon1, lat2, lon2):
        return None  # STRICT, like the PostgreSQL function
    return distance_km(float(lat1), float(lon1), float(lat2), float(lon2))


def register_sqlite_functions(engine: AsyncEngine) -> None:
    """Give SQLite connections `lobu_distance_km` (PostgreSQL has it from the migration)."""
    if engine.dialect.name != "sqlite":
        return

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("lobu_distance_km", 4, _sql_distance, deterministic=True)

    event.listen(engine.sync_engine, "connect", on_connect)
