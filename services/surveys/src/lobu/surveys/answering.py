"""Answering by personal link: drafts, one final response per alliance, receipts.

Concurrent saves for one alliance are serialised by locking its invitation row, and
closing the survey waits for a save in progress (the save holds the survey row in
share mode), so no answer lands after the close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared import Caller, Role, add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.surveys import (
    INVITATION_ANSWERED,
    RESPONSE_SUBMITTED,
    InvitationAnswered,
    ResponseSubmitted,
)
from lobu.surveys.audience import personal_link
from lobu.surveys.domain import check_answers, hash_token, looks_like_token, takes_answers
from lobu.surveys.errors import (
    InvalidAnswersError,
    InvitationNotFoundError,
    NotYourInvitationError,
    SurveyClosedError,
)
from lobu.surveys.models import Invitation, InvitationToken, Response, Survey
from lobu.surveys.schemas import AnswersForm, AnswersSubmission, AnswerState, AnswersView
from lobu.surveys.service import Clock, questions_of


@dataclass(frozen=True)
class Visit:
    """Whose link it is, and what has been saved under it."""

    invitation: Invitation
    survey: Survey
    response: Response | None


def _view(visit: Visit) -> AnswersView:
    response = visit.response
    submitted = response is not None and response.submitted_at is not None
    return AnswersView(
        survey_id=visit.survey.id,
        alliance_id=visit.invitation.alliance_id,
        title=visit.survey.title,
        closes_at=as_utc(visit.survey.closes_at),
        state=AnswerState.SUBMITTED if submitted else AnswerState.DRAFT,
        draft=response.draft if response else {},
        answers=response.answers if response else None,
        submitted_at=as_utc(response.submitted_at) if response and response.submitted_at else None,
    )


class AnswerDesk:
    """Reads and saves an alliance's answers, found by the token of its link."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, source: str, base_url: str,
        clock: Clock = utc_now,
    ) -> None:  # fmt: skip
        self.sessions = sessions
        self._source = source
        self._base_url = base_url
        self.clock = clock

    async def _visit(
        self, session: AsyncSession, token: str, caller: Caller | None, *, lock: bool
    ) -> Visit:
        if not looks_like_token(token):
            raise InvitationNotFoundError(
                "This link is not valid. Please use the link from your email."
            )
        statement = (
            select(Invitation)
            .join(InvitationToken, col(InvitationToken.invitation_id) == col(Invitation.id))
            .where(col(InvitationToken.token_hash) == hash_token(token))
        )
        invitation = await session.scalar(statement.with_for_update() if lock else statement)
        if invitation is None:
            raise InvitationNotFoundError(
                "This link is not valid. Please use the link from your email."
            )
        if (
            caller is not None
            and caller.role is Role.ALLIANCE
            and (caller.alliance_id != invitation.alliance_id)
        ):
            raise NotYourInvitationError("This link belongs to another alliance.")
        survey_query = select(Survey).where(col(Survey.id) == invitation.survey_id)
        survey = await session.scalar(
            survey_query.with_for_update(read=True) if lock else survey_query
        )
        if survey is None:
            raise InvitationNotFoundError("This link is not valid any more.")
        response = await session.get(Response, invitation.id)
        return Visit(invitation=invitation, survey=survey, response=response)

    async def form(self, token: str, caller: Caller | None) -> AnswersForm:
        """The questionnaire and what has been saved; 410 once the survey is closed."""
        async with self.sessions() as session:
            visit = await self._visit(session, token, caller, lock=False)
        self._check_open(visit.survey)
        return AnswersForm(
            **_view(visit).model_dump(), intro=visit.survey.intro,
            questions=questions_of(visit.survey),
        )  # fmt: skip

    def _check_open(self, survey: Survey) -> None:
        if not takes_answers(
            state=survey.state, closes_at=as_utc(survey.closes_at), now=self.clock()
        ):
            if survey.state == "draft":
                raise InvitationNotFoundError("This survey is not open.")
            raise SurveyClosedError(
                f"The survey “{survey.title}” has closed; answers are no longer accepted."
            )

    async def save(
        self, token: str, submission: AnswersSubmission, caller: Caller | None
    ) -> AnswersView:
        """Save a draft, or submit (replacing an earlier submission)."""
        async with transaction(self.sessions) as session:
            visit = await self._visit(session, token, caller, lock=True)
            self._check_open(visit.survey)
            checked = check_answers(
                questions_of(visit.survey), submission.answers, complete=submission.submit
            )
            if checked.errors:
                raise InvalidAnswersError(
                    "Some answers need attention: "
                    + "; ".join(f"{key}: {message}" for key, message in checked.errors.items()),
                    errors=[{"field": key, "message": msg} for key, msg in checked.errors.items()],
                )
            response = visit.response or Response(
                invitation_id=visit.invitation.id, survey_id=visit.survey.id,
                alliance_id=visit.invitation.alliance_id,
            )  # fmt: skip
            session.add(response)
            now = self.clock()
            response.draft = checked.answers
            response.updated_at = now
            if submission.submit:
                replaced = response.submitted_at is not None
                response.answers, response.submitted_at = checked.answers, now
                response.submissions += 1
                self._announce(session, visit, token, submitted_at=now, replaced=replaced)
            await session.flush()
            return _view(Visit(visit.invitation, visit.survey, response))

    def _announce(
        self, session: AsyncSession, visit: Visit, token: str, *, submitted_at: datetime,
        replaced: bool,
    ) -> None:  # fmt: skip
        survey, invitation = visit.survey, visit.invitation
        add_event(
            session, event_type=RESPONSE_SUBMITTED, source=self._source, subject=survey.id,
            data=ResponseSubmitted(
                survey_id=survey.id, alliance_id=invitation.alliance_id,
                submitted_at=submitted_at, replaced=replaced,
            ),
        )  # fmt: skip
        add_event(
            session, event_type=INVITATION_ANSWERED, source=self._source, subject=invitation.id,
            data=InvitationAnswered(
                survey_id=survey.id, year=survey.year, title=survey.title,
                invitation_id=invitation.id, alliance_id=invitation.alliance_id,
                link=personal_link(self._base_url, token), closes_at=as_utc(survey.closes_at),
                submitted_at=submitted_at, replaced=replaced,
            ),
        )  # fmt: skip
