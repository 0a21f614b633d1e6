"""Survey mails held until the alliance's contacts are known.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_survey_mails",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("alliance_id", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_pending_survey_mails_alliance_id", "pending_survey_mails", ["alliance_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_pending_survey_mails_alliance_id", table_name="pending_survey_mails")
    op.drop_table("pending_survey_mails")
