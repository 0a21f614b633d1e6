"""Privacy requests and the services' answers (the audit of the privacy flow).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("address_hash", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_privacy_requests_address_hash", "privacy_requests", ["address_hash"])
    op.create_table(
        "privacy_answers",
        sa.Column(
            "request_id",
            sa.String(36),
            sa.ForeignKey("privacy_requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("service", sa.String(50), primary_key=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("export", sa.JSON(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("privacy_answers")
    op.drop_index("ix_privacy_requests_address_hash", table_name="privacy_requests")
    op.drop_table("privacy_requests")
