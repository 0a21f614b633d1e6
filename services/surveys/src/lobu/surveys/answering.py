"""Answering by personal link or by session: drafts, one final response per alliance, receipts.

An invitation is found either by the token of its personal link (`LinkKey`) or, for a
coordinator signed in, by their alliance and the survey (`AllianceKey`); both ways
share one implementation of reading and saving.

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
from lobu.surveys.models import Invitation, InvitationToken, Response, Survey, SurveyState
from lobu.surveys.schemas import AnswersForm, AnswersSubmission, AnswerState, AnswersView
from lobu.surveys.service import Clock, questions_of

SESSION_PAGE = "/mein-buendnis/umfrage"


@dataclass(frozen=True)
class LinkKey:
    """The invitation behind a personal link (and who uses it, if anybody signed)."""

    token: str
    caller: Caller | None = None


@dataclass(frozen=True)
class AllianceKey:
    """A signed-in coordinator's invitation to one survey: their alliance names it."""

    alliance_id: str
    survey_id: str


AnswerKey = LinkKey | AllianceKey


@dataclass(frozen=True)
class NoOpenSurvey:
    """What a coordinator sees without an open survey: when the next one opens, if known."""

    next_opens_at: datetime | None
    next_title: str | None


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
        self, session: AsyncSession, key: AnswerKey, *, lock: bool
    ) -> Visit:  # fmt: skip
        if isinstance(key, LinkKey):
            invitation = await self._by_link(session, key, lock=lock)
        else:
            statement = select(Invitation).where(
                col(Invitation.survey_id) == key.survey_id,
                col(Invitation.alliance_id) == key.alliance_id,
            )
            found = await session.scalar(statement.with_for_update() if lock else statement)
            if found is None:
                raise InvitationNotFoundError("Your alliance is not invited to this survey.")
            invitation = found
        survey_query = select(Survey).where(col(Survey.id) == invitation.survey_id)
        survey = await session.scalar(
            survey_query.with_for_update(read=True) if lock else survey_query
        )
        if survey is None:
            raise InvitationNotFoundError("This link is not valid any more.")
        response = await session.get(Response, invitation.id)
        return Visit(invitation=invitation, survey=survey, response=response)

    async def _by_link(self, session: AsyncSession, key: LinkKey, *, lock: bool) -> Invitation:
        if not looks_like_token(key.token):
            raise InvitationNotFoundError(
                "This link is not valid. Please use the link from your email."
            )
        statement = (
            select(Invitation)
            .join(InvitationToken, col(InvitationToken.invitation_id) == col(Invitation.id))
            .where(col(InvitationToken.token_hash) == hash_token(key.token))
        )
        invitation = await session.scalar(statement.with_for_update() if lock else statement)
        if invitation is None:
            raise InvitationNotFoundError(
                "This link is not valid. Please use the link from your email."
            )
        caller = key.caller
        if (
            caller is not None
            and caller.role is Role.ALLIANCE
            and (caller.alliance_id != invitation.alliance_id)
        ):
            raise NotYourInvitationError("This link belongs to another alliance.")
        return invitation

    async def current(self, alliance_id: str) -> AllianceKey | NoOpenSurvey:
        """The open survey the alliance is invited to (the latest opened), else what comes next."""
        now = self.clock()
        async with self.sessions() as session:
            survey_id = await session.scalar(
                select(col(Survey.id))
                .join(Invitation, col(Invitation.survey_id) == col(Survey.id))
                .where(
                    col(Invitation.alliance_id) == alliance_id,
                    col(Survey.state) == SurveyState.OPEN.value,
                    col(Survey.closes_at) > now,
                )
                .order_by(col(Survey.opened_at).desc(), col(Survey.id))
                .limit(1)
            )
            if survey_id is not None:
                return AllianceKey(alliance_id=alliance_id, survey_id=survey_id)
            upcoming = (
                await session.execute(
                    select(col(Survey.opens_at), col(Survey.title))
                    .where(
                        col(Survey.state) == SurveyState.DRAFT.value,
                        col(Survey.opens_at) > now,
                    )
                    .order_by(col(Survey.opens_at))
                    .limit(1)
                )
            ).first()
        if upcoming is None or upcoming[0] is None:
            return NoOpenSurvey(next_opens_at=None, next_title=None)
        return NoOpenSurvey(next_opens_at=as_utc(upcoming[0]), next_title=upcoming[1])

    async def form(self, token: str, caller: Caller | None) -> AnswersForm:
        """The questionnaire behind a link and what has been saved; 410 once closed."""
        return await self.form_of(LinkKey(token, caller))

    async def form_of(self, key: AnswerKey) -> AnswersForm:
        """The questionnaire and what has been saved; 410 once the survey is closed."""
        async with self.sessions() as session:
            visit = await self._visit(session, key, lock=False)
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
        """Save a draft by link, or submit (replacing an earlier submission)."""
        return await self.save_of(LinkKey(token, caller), submission)

    async def save_of(self, key: AnswerKey, submission: AnswersSubmission) -> AnswersView:
        """Save a draft, or submit (replacing an earlier submission)."""
        async with transaction(self.sessions) as session:
            visit = await self._visit(session, key, lock=True)
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
                link = (
                    personal_link(self._base_url, key.token)
                    if isinstance(key, LinkKey)
                    else f"{self._base_url.rstrip('/')}{SESSION_PAGE}"
                )
                self._announce(session, visit, link, submitted_at=now, replaced=replaced)
            await session.flush()
            return _view(Visit(visit.invitation, visit.survey, response))

    def _announce(
        self, session: AsyncSession, visit: Visit, link: str, *, submitted_at: datetime,
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
                link=link, closes_at=as_utc(survey.closes_at),
                submitted_at=submitted_at, replaced=replaced,
            ),
        )  # fmt: skip
