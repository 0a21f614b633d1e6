"""Alembic environment of the directory."""

from sqlmodel import SQLModel

from lobu.directory import models, privacy_models  # noqa: F401  # registers the tables
from lobu.shared.migration_env import run_migrations

run_migrations(SQLModel.metadata)
