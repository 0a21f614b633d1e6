"""Surveys, the alliance replica, invitations and their tokens, responses, reminders,
and the outbox and inbox.

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


def _moment(name: str, *, nullable: bool = False) -> "sa.Column[datetime]":
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("intro", sa.String(5000), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("reminder_days", sa.JSON(), nullable=False),
        _moment("opens_at", nullable=True),
        _moment("closes_at"),
        _moment("opened_at", nullable=True),
        _moment("closed_at", nullable=True),
        _moment("results_published_at", nullable=True),
        sa.Column("copied_from", sa.String(36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
    )
    op.create_index("ix_surveys_state", "surveys", ["state"])
    op.create_index("ix_surveys_year", "surveys", ["year"])
    op.create_table(
        "replicated_alliances",
        sa.Column("alliance_id", sa.String(64), primary_key=True),
        sa.Column("slug", sa.String(120), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(2), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("awards", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_replicated_alliances_slug", "replicated_alliances", ["slug"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "survey_id",
            sa.String(36),
            sa.ForeignKey("surveys.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("alliance_id", sa.String(64), nullable=False),
        _moment("created_at"),
        sa.UniqueConstraint("survey_id", "alliance_id", name="uq_invitation_survey_alliance"),
    )
    op.create_table(
        "invitation_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "invitation_id",
            sa.String(36),
            sa.ForeignKey("invitations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(40), nullable=False),
        _moment("created_at"),
    )
    op.create_index(
        "ix_invitation_tokens_invitation_id", "invitation_tokens", ["invitation_id"]
    )
    op.create_table(
        "responses",
        sa.Column(
            "invitation_id",
            sa.String(36),
            sa.ForeignKey("invitations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("survey_id", sa.String(36), nullable=False),
        sa.Column("alliance_id", sa.String(64), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=True),
        _moment("submitted_at", nullable=True),
        sa.Column("submissions", sa.Integer(), nullable=False),
        _moment("updated_at"),
        sa.UniqueConstraint("survey_id", "alliance_id", name="uq_response_survey_alliance"),
    )
    op.create_index("ix_responses_survey_id", "responses", ["survey_id"])
    op.create_table(
        "reminders_sent",
        sa.Column(
            "invitation_id",
            sa.String(36),
            sa.ForeignKey("invitations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("days_before", sa.Integer(), primary_key=True),
        _moment("sent_at"),
    )
    create_outbox_and_inbox_v1()
    add_outbox_parking_v2()  # the outbox as of lobu.shared's v2


def downgrade() -> None:
    drop_outbox_parking_v2()
    drop_outbox_and_inbox_v1()
    op.drop_table("reminders_sent")
    op.drop_table("responses")
    op.drop_table("invitation_tokens")
    op.drop_table("invitations")
    op.drop_table("replicated_alliances")
    op.drop_table("surveys")
