"""The body of every service's Alembic `env.py`: online migrations on a given connection.

`upgrade_database` hands Alembic the service's connection; the `alembic` command line
(for writing new revisions) gets one from `sqlalchemy.url` instead.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection, MetaData, pool
from sqlalchemy.ext.asyncio import async_engine_from_config


def run_migrations(target_metadata: MetaData) -> None:
    """Run the migrations of the current Alembic context."""
    config = context.config
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection, target_metadata)
        return
    engine = async_engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )

    async def run_async() -> None:
        async with engine.begin() as async_connection:
            await async_connection.run_sync(_run, target_metadata)
        await engine.dispose()

    asyncio.run(run_async())


def _run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
