"""The surveys service's tables."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from lobu.shared import utc_now


class SurveyState(StrEnum):
    """Where a survey stands: draft → open → closed."""

    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Survey(SQLModel, table=True):
    """A questionnaire of one year; `questions` is frozen once the survey is open."""

    __tablename__ = "surveys"
    __table_args__ = (Index("ix_surveys_state", "state"), Index("ix_surveys_year", "year"))

    id: str = Field(primary_key=True, max_length=36)
    year: int
    title: str = Field(max_length=200)
    intro: str = Field(default="", sa_column=Column(String(5000), nullable=False))
    state: str = Field(default=SurveyState.DRAFT.value, max_length=10)
    # The questions as validated by schemas.QuestionSpec, in their order.
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    reminder_days: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    opens_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    closes_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    opened_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    closed_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    results_published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    copied_from: str | None = Field(default=None, max_length=36)
    version: int = 1
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class AllianceReplica(SQLModel, table=True):
    """What the surveys service knows of an alliance, from `directory.alliance`.

    A deletion leaves a tombstone (`deleted`, the deleting version), so that an older
    event handled later cannot bring the alliance back.
    """

    __tablename__ = "replicated_alliances"

    alliance_id: str = Field(primary_key=True, max_length=64)
    slug: str = Field(default="", max_length=120, index=True)
    name: str = Field(default="", max_length=200)
    state: str = Field(default="", max_length=2)
    status: str = Field(default="active", max_length=20)
    topics: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    awards: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    version: int
    deleted: bool = False


class Invitation(SQLModel, table=True):
    """One alliance invited to one survey (once: the unique key holds under concurrency)."""

    __tablename__ = "invitations"
    __table_args__ = (
        UniqueConstraint("survey_id", "alliance_id", name="uq_invitation_survey_alliance"),
    )

    id: str = Field(primary_key=True, max_length=36)
    survey_id: str = Field(
        sa_column=Column(String(36), ForeignKey("surveys.id", ondelete="CASCADE"), nullable=False)
    )
    alliance_id: str = Field(max_length=64)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class InvitationToken(SQLModel, table=True):
    """A personal link's token, kept only as its SHA-256 (a stolen database yields no link).

    The invitation and each reminder carry a token of their own, since a token that is
    stored only hashed cannot be mailed twice; all of an invitation's tokens are valid.
    """

    __tablename__ = "invitation_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    invitation_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("invitations.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    purpose: str = Field(max_length=40)
    created_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class Response(SQLModel, table=True):
    """An alliance's answers to a survey: a draft, and the final answers once submitted.

    One row per invitation, so one final response per alliance; submitting again
    replaces `answers` until the survey closes.
    """

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("survey_id", "alliance_id", name="uq_response_survey_alliance"),
    )

    invitation_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
        )
    )
    survey_id: str = Field(max_length=36, index=True)
    alliance_id: str = Field(max_length=64)
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    submitted_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    submissions: int = 0
    updated_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class ReminderSent(SQLModel, table=True):
    """A reminder went out for one invitation; the key makes a second one impossible."""

    __tablename__ = "reminders_sent"

    invitation_id: str = Field(
        sa_column=Column(
            String(36), ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
        )
    )
    days_before: int = Field(primary_key=True)
    sent_at: datetime = Field(
        default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
