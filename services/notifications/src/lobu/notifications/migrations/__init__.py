"""Alembic migrations of notifications' database (applied at start-up)."""
