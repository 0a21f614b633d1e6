"""Alembic environment of notifications."""

from sqlmodel import SQLModel

from lobu.notifications import erasures, models  # noqa: F401  # registers the tables
from lobu.shared.migration_env import run_migrations

run_migrations(SQLModel.metadata)
