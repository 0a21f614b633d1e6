"""Deliveries per channel with template, category and HTML part; preferences, digest.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alliance_replicas") as table:
        table.add_column(sa.Column("slug", sa.String(200), nullable=True))
    # batch mode: SQLite rebuilds the table to change a constraint.
    with op.batch_alter_table("deliveries") as table:
        table.add_column(
            sa.Column("template", sa.String(100), nullable=False, server_default="welcome")
        )
        table.add_column(
            sa.Column("category", sa.String(50), nullable=False, server_default="transactional")
        )
        table.add_column(sa.Column("html_body", sa.Text(), nullable=True))
        table.add_column(sa.Column("unsubscribe_url", sa.String(500), nullable=True))
        table.drop_constraint("uq_delivery_event_recipient", type_="unique")
        table.create_unique_constraint(
            "uq_delivery_event_recipient_channel", ["event_id", "recipient", "channel"]
        )
    op.create_table(
        "mail_recipients",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("category", sa.String(50), primary_key=True),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("category", sa.String(50), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("digest_delivery_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint("address", "category", "event_id", name="uq_digest_item_fact"),
    )
    op.create_index(
        "ix_digest_items_open", "digest_items", ["digest_delivery_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_digest_items_open", table_name="digest_items")
    op.drop_table("digest_items")
    op.drop_table("preferences")
    op.drop_table("mail_recipients")
    with op.batch_alter_table("deliveries") as table:
        table.drop_constraint("uq_delivery_event_recipient_channel", type_="unique")
        table.create_unique_constraint("uq_delivery_event_recipient", ["event_id", "recipient"])
        table.drop_column("unsubscribe_url")
        table.drop_column("html_body")
        table.drop_column("category")
        table.drop_column("template")
    with op.batch_alter_table("alliance_replicas") as table:
        table.drop_column("slug")
