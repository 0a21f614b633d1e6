"""Alembic migrations of the surveys service."""
