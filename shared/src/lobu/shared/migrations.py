"""Alembic per service: `upgrade head` at start-up, on the service's own async engine."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: str, database_url: str) -> Config:
    """An Alembic config for a service's `migrations/` package, e.g. "lobu.directory:migrations"."""
    config = Config()
    config.set_main_option("script_location", script_location)
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def upgrade_database(engine: AsyncEngine, script_location: str) -> None:
    """Bring the service's schema to the newest revision."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config(script_location, engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade)
