"""Alembic environment of the surveys."""

from sqlmodel import SQLModel

from lobu.shared.migration_env import run_migrations
from lobu.surveys import models  # noqa: F401  # registers the tables

run_migrations(SQLModel.metadata)
