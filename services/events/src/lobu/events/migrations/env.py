"""Alembic environment of the events service."""

from sqlmodel import SQLModel

from lobu.events import models  # noqa: F401  # registers the tables
from lobu.shared.migration_env import run_migrations

run_migrations(SQLModel.metadata)
