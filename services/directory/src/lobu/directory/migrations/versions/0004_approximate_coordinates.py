"""Coordinates filled in from the gazetteer are marked as approximate.

Revision ID: 0004
Revises: 0002 (the lead re-chains it after 0003)
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        batch.add_column(
            sa.Column(
                "coordinates_approximate", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        batch.drop_column("coordinates_approximate")
