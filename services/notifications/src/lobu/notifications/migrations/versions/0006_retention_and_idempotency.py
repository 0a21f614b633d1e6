"""lobu.shared's messaging tables, version 3: the inbox's age index, Idempotency-Keys.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from lobu.shared.messaging_tables import (
    add_retention_and_idempotency_v3,
    drop_retention_and_idempotency_v3,
)

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_retention_and_idempotency_v3()


def downgrade() -> None:
    drop_retention_and_idempotency_v3()
