"""Alliance and contact replicas, deliveries, and the outbox and inbox.

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
        "alliance_replicas",
        sa.Column("alliance_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("created_event_id", sa.String(64), nullable=True),
        sa.Column("created_version", sa.Integer(), nullable=True),
        sa.Column("welcome_scheduled", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "contacts_replicas",
        sa.Column("alliance_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("alliance_id", sa.String(64), nullable=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("event_id", "recipient", name="uq_delivery_event_recipient"),
    )
    op.create_index("ix_deliveries_event_id", "deliveries", ["event_id"])
    op.create_index("ix_deliveries_alliance_id", "deliveries", ["alliance_id"])
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    create_outbox_and_inbox_v1()


def downgrade() -> None:
    drop_outbox_and_inbox_v1()
    op.drop_table("deliveries")
    op.drop_table("contacts_replicas")
    op.drop_table("alliance_replicas")
