"""Alliances, their topics, and the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from lobu.shared.messaging_tables import create_outbox_and_inbox_v1, drop_outbox_and_inbox_v1

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alliances",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("postal_code", sa.String(5), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_alliances_name", "alliances", ["name", "id"])
    op.create_index("ix_alliances_state", "alliances", ["state"])
    op.create_table(
        "alliance_topics",
        sa.Column(
            "alliance_id",
            sa.String(36),
            sa.ForeignKey("alliances.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
    )
    op.create_index("ix_alliance_topics_topic", "alliance_topics", ["topic"])
    create_outbox_and_inbox_v1()


def downgrade() -> None:
    drop_outbox_and_inbox_v1()
    op.drop_table("alliance_topics")
    op.drop_table("alliances")
