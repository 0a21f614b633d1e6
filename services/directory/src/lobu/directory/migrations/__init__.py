"""Alembic migrations of the directory's database (applied at start-up)."""
