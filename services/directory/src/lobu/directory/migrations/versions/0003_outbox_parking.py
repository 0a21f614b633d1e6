"""The outbox's parking column: rows the relay gave up on after repeated refusals.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from lobu.shared.messaging_tables import add_outbox_parking_v2, drop_outbox_parking_v2

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_parking_v2()


def downgrade() -> None:
    drop_outbox_parking_v2()
