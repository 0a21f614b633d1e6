"""The contact form's rate limit: messages per key (client, alliance) and fixed window.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_rate_windows",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_contact_rate_windows_start", "contact_rate_windows", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_contact_rate_windows_start", table_name="contact_rate_windows")
    op.drop_table("contact_rate_windows")
