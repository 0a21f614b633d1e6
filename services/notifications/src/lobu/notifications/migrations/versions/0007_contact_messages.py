"""Contact messages: a Reply-To per delivery, and when its personal data must go.

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
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("reply_to", sa.String(320), nullable=True))
        batch.add_column(sa.Column("personal_until", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_deliveries_personal_until", "deliveries", ["personal_until"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_personal_until", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("personal_until")
        batch.drop_column("reply_to")
