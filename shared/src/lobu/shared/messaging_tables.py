"""Creates the outbox and inbox tables in a service's first migration.

Each service owns its database, so each creates its own copy of these tables; this
function is that revision's body, frozen as version 1. A later change to the tables
gets a new function and a new revision in every service (version 2: outbox parking;
version 3: the inbox's age index and the Idempotency-Keys table).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_outbox_and_inbox_v1() -> None:
    """Create `outbox` and `inbox` as of version 1."""
    op.create_table(
        "outbox",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["published_at", "position"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(100), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_outbox_and_inbox_v1() -> None:
    """Undo `create_outbox_and_inbox_v1`."""
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


def add_outbox_parking_v2() -> None:
    """Version 2 of the outbox: `parked_at` for rows the relay gave up on."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_parked", ["parked_at"])


def add_outbox_traceparent_v3() -> None:
    """Version 3 of the outbox: `traceparent`, the W3C trace context of the writing request."""
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(55), nullable=True))


def drop_outbox_traceparent_v3() -> None:
    """Undo `add_outbox_traceparent_v3`."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("traceparent")


def drop_outbox_parking_v2() -> None:
    """Undo `add_outbox_parking_v2`."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_parked")
        batch.drop_column("parked_at")


def add_retention_and_idempotency_v3() -> None:
    """Version 3: the inbox's age index (retention) and the Idempotency-Keys table."""
    with op.batch_alter_table("inbox") as batch:
        batch.create_index("ix_inbox_handled_at", ["handled_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def drop_retention_and_idempotency_v3() -> None:
    """Undo `add_retention_and_idempotency_v3`."""
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    with op.batch_alter_table("inbox") as batch:
        batch.drop_index("ix_inbox_handled_at")
