"""The outbox's traceparent: the trace of the request that wrote the row, published as
the CloudEvents extension `traceparent`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from lobu.shared.messaging_tables import add_outbox_traceparent_v3, drop_outbox_traceparent_v3

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_traceparent_v3()


def downgrade() -> None:
    drop_outbox_traceparent_v3()
