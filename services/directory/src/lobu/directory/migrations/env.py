"""Alembic environment of the directory."""

from sqlmodel import SQLModel

from lobu.directory import models, privacy_models, sign_in_models  # noqa: F401  # the tables
from lobu.shared.migration_env import run_migrations

run_migrations(SQLModel.metadata)
