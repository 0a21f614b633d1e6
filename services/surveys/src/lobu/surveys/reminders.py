"""Reminders to alliances that have not submitted, at most once per reminder point."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared import add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.surveys import INVITATION_REMINDED, InvitationReminded
from lobu.shared.database import insert_ignoring_duplicates
from lobu.surveys.audience import issue_token, personal_link
from lobu.surveys.domain import due_reminder
from lobu.surveys.models import (
    AllianceReplica,
    Invitation,
    ReminderSent,
    Response,
    Survey,
    SurveyState,
)
from lobu.surveys.service import Clock


class Reminders:
    """Queues the reminder that is due for each non-responding invited alliance."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, source: str, base_url: str,
        clock: Clock = utc_now,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self._source = source
        self._base_url = base_url
        self.clock = clock

    async def send_due(self) -> int:
        """Queue the reminders due now; returns how many."""
        now = self.clock()
        async with self.sessions() as session:
            surveys = (
                await session.scalars(
                    select(Survey).where(
                        col(Survey.state) == SurveyState.OPEN.value, col(Survey.closes_at) > now
                    )
                )
            ).all()
        sent = 0
        for survey in surveys:
            days = due_reminder(
                reminder_days=survey.reminder_days,
                opened_at=as_utc(survey.opened_at or now),
                closes_at=as_utc(survey.closes_at),
                now=now,
            )
            if days is not None:
                async with transaction(self.sessions) as session:
                    sent += await self._remind_in(session, survey, days)
        return sent

    async def _remind_in(self, session: AsyncSession, survey: Survey, days: int) -> int:
        submitted = select(col(Response.invitation_id)).where(
            col(Response.survey_id) == survey.id, col(Response.submitted_at).is_not(None)
        )
        reminded = select(col(ReminderSent.invitation_id)).where(
            col(ReminderSent.days_before) == days
        )
        deleted = select(col(AllianceReplica.alliance_id)).where(
            col(AllianceReplica.deleted).is_(True)
        )
        invitations = (
            await session.scalars(
                select(Invitation).where(
                    col(Invitation.survey_id) == survey.id,
                    col(Invitation.id).not_in(submitted),
                    col(Invitation.id).not_in(reminded),
                    col(Invitation.alliance_id).not_in(deleted),
                )
            )
        ).all()
        sent = 0
        for invitation in invitations:
            # The unique row is the guard: a second scheduler finds it and sends nothing.
            claimed = await session.scalar(
                insert_ignoring_duplicates(
                    session, ReminderSent, invitation_id=invitation.id, days_before=days,
                    sent_at=utc_now(),
                ).returning(ReminderSent.__table__.c.invitation_id)  # type: ignore[attr-defined]
            )  # fmt: skip
            if claimed is None:
                continue
            token = await issue_token(session, invitation.id, purpose=f"reminder-{days}")
            add_event(
                session, event_type=INVITATION_REMINDED, source=self._source,
                subject=invitation.id,
                data=InvitationReminded(
                    survey_id=survey.id, year=survey.year, title=survey.title,
                    invitation_id=invitation.id, alliance_id=invitation.alliance_id,
                    link=personal_link(self._base_url, token),
                    closes_at=as_utc(survey.closes_at), days_before=days,
                ),
            )  # fmt: skip
            sent += 1
        return sent
