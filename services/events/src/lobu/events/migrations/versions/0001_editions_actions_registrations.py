"""Editions, the alliance replica, actions, registrations, audit, and the outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from lobu.shared.messaging_tables import (
    add_outbox_parking_v2,
    create_outbox_and_inbox_v1,
    drop_outbox_and_inbox_v1,
    drop_outbox_parking_v2,
)

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _moment(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "editions",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("motto", sa.String(200), nullable=True),
        sa.Column("info", sa.Text(), nullable=True),
        _moment("entry_opens_at"),
        _moment("entry_closes_at"),
        _moment("created_at"),
        _moment("updated_at"),
    )
    op.create_table(
        "programme_alliances",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("city", sa.String(200), nullable=False),
        sa.Column("postal_code", sa.String(5), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        _moment("updated_at"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "edition_year",
            sa.Integer(),
            sa.ForeignKey("editions.year", ondelete="RESTRICT"),
            nullable=False,
        ),
        sa.Column("alliance_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _moment("starts_at"),
        _moment("ends_at"),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("online_url", sa.String(500), nullable=True),
        sa.Column("street", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(5), nullable=True),
        sa.Column("city", sa.String(200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("target_groups", sa.JSON(), nullable=False),
        sa.Column("accessibility", sa.Text(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("registration_required", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("cancellation_reason", sa.String(40), nullable=True),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.CheckConstraint(
            "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)",
            name="ck_actions_seats_within_capacity",
        ),
    )
    op.create_index(
        "ix_actions_programme", "actions", ["edition_year", "state", "starts_at", "id"]
    )
    op.create_index("ix_actions_alliance", "actions", ["alliance_id"])
    op.create_index("ix_actions_location", "actions", ["latitude", "longitude"])
    op.create_table(
        "registrations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "action_id",
            sa.String(36),
            sa.ForeignKey("actions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("arrival", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("promoted", sa.Boolean(), nullable=False),
        sa.Column("cancellation_reason", sa.String(40), nullable=True),
        _moment("created_at"),
        _moment("confirmed_at", nullable=True),
        _moment("cancelled_at", nullable=True),
        sa.UniqueConstraint("action_id", "arrival", name="uq_registrations_arrival"),
    )
    op.create_index(
        "ix_registrations_waiting", "registrations", ["action_id", "status", "arrival"]
    )
    op.create_table(
        "action_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("action_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(80), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        _moment("at"),
    )
    op.create_index("ix_action_audit_action_id", "action_audit", ["action_id"])
    create_outbox_and_inbox_v1()
    add_outbox_parking_v2()  # the outbox as of lobu.shared's v2


def downgrade() -> None:
    drop_outbox_parking_v2()
    drop_outbox_and_inbox_v1()
    op.drop_table("action_audit")
    op.drop_table("registrations")
    op.drop_table("actions")
    op.drop_table("programme_alliances")
    op.drop_table("editions")
