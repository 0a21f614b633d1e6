"""The questionnaire use cases: each one transaction, with its events inside it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared import add_event, as_utc, transaction, utc_now
from lobu.shared.contracts.surveys import (
    SURVEY_CLOSED,
    SURVEY_OPENED,
    SURVEY_RESULTS_PUBLISHED,
    SurveyClosed,
    SurveyOpened,
    SurveyResultsPublished,
)
from lobu.shared.pagination import decode_cursor, encode_cursor
from lobu.surveys.audience import invite_active_alliances, lock_audience
from lobu.surveys.domain import check_questionnaire, check_version
from lobu.surveys.errors import SurveyNotFoundError, SurveyStateError
from lobu.surveys.models import Invitation, Response, Survey, SurveyState
from lobu.surveys.schemas import (
    QuestionSpec,
    SurveyCopy,
    SurveyCreate,
    SurveyPage,
    SurveyPublic,
    SurveySummary,
    SurveyUpdate,
)

Clock = Callable[[], datetime]


async def load_survey(session: AsyncSession, survey_id: str, *, lock: bool = False) -> Survey:
    """The survey, locked for update when `lock`; 404 when there is none."""
    statement = select(Survey).where(col(Survey.id) == survey_id)
    survey = await session.scalar(statement.with_for_update() if lock else statement)
    if survey is None:
        raise SurveyNotFoundError(f"There is no survey {survey_id!r}.")
    return survey


def questions_of(survey: Survey) -> list[QuestionSpec]:
    """The survey's questions as models."""
    return [QuestionSpec.model_validate(question) for question in survey.questions]


async def counts_of(session: AsyncSession, survey_id: str) -> tuple[int, int]:
    """(invited, respondents) of a survey."""
    invited = await session.scalar(
        select(func.count()).select_from(Invitation).where(col(Invitation.survey_id) == survey_id)
    )
    respondents = await session.scalar(
        select(func.count())
        .select_from(Response)
        .where(col(Response.survey_id) == survey_id, col(Response.submitted_at).is_not(None))
    )
    return int(invited or 0), int(respondents or 0)


def _summary_values(survey: Survey) -> dict[str, Any]:
    return {
        "id": survey.id, "year": survey.year, "title": survey.title, "state": survey.state,
        "opens_at": as_utc(survey.opens_at) if survey.opens_at else None,
        "closes_at": as_utc(survey.closes_at), "version": survey.version,
    }  # fmt: skip


def _moment(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


async def view_of(session: AsyncSession, survey: Survey) -> SurveyPublic:
    """The survey as admins see it."""
    invited, respondents = await counts_of(session, survey.id)
    return SurveyPublic(
        **_summary_values(survey),
        intro=survey.intro,
        reminder_days=survey.reminder_days,
        questions=questions_of(survey),
        opened_at=_moment(survey.opened_at),
        closed_at=_moment(survey.closed_at),
        results_published_at=_moment(survey.results_published_at),
        copied_from=survey.copied_from,
        invited=invited,
        respondents=respondents,
    )


class SurveyCatalogue:
    """Creates, changes, copies, opens and closes surveys."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        base_url: str,
        reminder_days: Sequence[int],
        clock: Clock = utc_now,
    ) -> None:
        self.sessions = sessions
        self._source = source
        self._base_url = base_url
        self._reminder_days = list(reminder_days)
        self.clock = clock

    async def create(
        self, request: SurveyCreate, *, copied_from: str | None = None
    ) -> SurveyPublic:
        """A new draft."""
        check_questionnaire(request.questions)
        reminder_days = sorted(set(request.reminder_days or self._reminder_days), reverse=True)
        async with transaction(self.sessions) as session:
            survey = Survey(
                id=str(uuid.uuid4()), year=request.year, title=request.title, intro=request.intro,
                opens_at=request.opens_at, closes_at=request.closes_at, reminder_days=reminder_days,
                questions=[question.model_dump(mode="json") for question in request.questions],
                copied_from=copied_from,
            )  # fmt: skip
            session.add(survey)
            await session.flush()
            return await view_of(session, survey)

    async def get(self, survey_id: str) -> SurveyPublic:
        """One survey with its questions."""
        async with self.sessions() as session:
            return await view_of(session, await load_survey(session, survey_id))

    async def page(self, *, cursor: str | None, limit: int) -> SurveyPage:
        """Surveys, newest year first (then by id), a keyset page at a time."""
        statement = select(Survey).order_by(col(Survey.year).desc(), col(Survey.id))
        if cursor is not None:
            year, survey_id = decode_cursor(cursor, types=(int, str))
            statement = statement.where(
                (col(Survey.year) < year)
                | ((col(Survey.year) == year) & (col(Survey.id) > survey_id))
            )
        async with self.sessions() as session:
            rows = (await session.scalars(statement.limit(limit + 1))).all()
        items = [SurveySummary(**_summary_values(row)) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return SurveyPage(
            items=items, next_cursor=encode_cursor([last.year, last.id]) if last else None
        )

    async def update(
        self, survey_id: str, change: SurveyUpdate, *, expected_version: int | None
    ) -> SurveyPublic:
        """Change a draft; an open survey may only move its closing time."""
        requested = change.model_dump(exclude_unset=True)
        async with transaction(self.sessions) as session:
            survey = await load_survey(session, survey_id, lock=True)
            check_version(expected=expected_version, current=survey.version)
            if survey.state == SurveyState.CLOSED.value or (
                survey.state == SurveyState.OPEN.value and set(requested) - {"closes_at"}
            ):
                raise SurveyStateError(
                    f"The survey is {survey.state}: its questions and settings are frozen "
                    "(an open survey may only move closes_at). Copy it into a new draft instead."
                )
            if change.questions is not None:
                check_questionnaire(change.questions)
                survey.questions = [q.model_dump(mode="json") for q in change.questions]
            for name in ("year", "title", "intro", "opens_at", "closes_at"):
                if name in requested:
                    if name == "closes_at" and requested[name] is None:
                        continue
                    setattr(survey, name, getattr(change, name))
            if change.reminder_days is not None:
                survey.reminder_days = sorted(set(change.reminder_days), reverse=True)
            if survey.state == SurveyState.OPEN.value and as_utc(survey.closes_at) <= self.clock():
                raise SurveyStateError("closes_at must lie in the future while the survey is open.")
            survey.version += 1
            survey.updated_at = utc_now()
            await session.flush()
            return await view_of(session, survey)

    async def copy(self, survey_id: str, request: SurveyCopy) -> SurveyPublic:
        """A new draft with the questions (keys and codes) of an existing survey."""
        original = await self.get(survey_id)
        return await self.create(
            SurveyCreate(
                year=request.year, title=request.title or _retitled(original, request.year),
                intro=original.intro,
                opens_at=request.opens_at, closes_at=request.closes_at,
                reminder_days=original.reminder_days or None, questions=original.questions,
            ),
            copied_from=original.id,
        )  # fmt: skip

    async def open(self, survey_id: str) -> SurveyPublic:
        """Open a draft and invite every active alliance."""
        async with transaction(self.sessions) as session:
            await lock_audience(session)
            survey = await load_survey(session, survey_id, lock=True)
            await self._open_in(session, survey)
            return await view_of(session, survey)

    async def _open_in(self, session: AsyncSession, survey: Survey) -> None:
        now = self.clock()
        if survey.state != SurveyState.DRAFT.value:
            raise SurveyStateError(f"The survey is {survey.state}; only a draft can be opened.")
        if as_utc(survey.closes_at) <= now:
            raise SurveyStateError("The survey's closes_at has passed; move it first.")
        survey.state, survey.opened_at = SurveyState.OPEN.value, now
        survey.version += 1
        survey.updated_at = utc_now()
        await session.flush()
        invited = await invite_active_alliances(
            session, survey, base_url=self._base_url, source=self._source
        )
        add_event(
            session, event_type=SURVEY_OPENED, source=self._source, subject=survey.id,
            data=SurveyOpened(
                survey_id=survey.id, year=survey.year, title=survey.title, opened_at=now,
                closes_at=as_utc(survey.closes_at), invited=invited,
            ),
        )  # fmt: skip

    async def close(self, survey_id: str) -> SurveyPublic:
        """Close an open survey: the links answer 410 from now on."""
        async with transaction(self.sessions) as session:
            survey = await load_survey(session, survey_id, lock=True)
            await self._close_in(session, survey)
            return await view_of(session, survey)

    async def _close_in(self, session: AsyncSession, survey: Survey) -> None:
        if survey.state != SurveyState.OPEN.value:
            raise SurveyStateError(f"The survey is {survey.state}; only an open one can be closed.")
        now = min(self.clock(), as_utc(survey.closes_at))
        survey.state, survey.closed_at = SurveyState.CLOSED.value, now
        survey.version += 1
        survey.updated_at = utc_now()
        await session.flush()
        invited, respondents = await counts_of(session, survey.id)
        add_event(
            session, event_type=SURVEY_CLOSED, source=self._source, subject=survey.id,
            data=SurveyClosed(
                survey_id=survey.id, year=survey.year, title=survey.title, closed_at=now,
                invited=invited, respondents=respondents,
            ),
        )  # fmt: skip

    async def publish_results(self, survey_id: str) -> SurveyPublic:
        """Announce that a closed survey's results are released."""
        async with transaction(self.sessions) as session:
            survey = await load_survey(session, survey_id, lock=True)
            if survey.state != SurveyState.CLOSED.value:
                raise SurveyStateError("Results can be published once the survey is closed.")
            if survey.results_published_at is None:
                survey.results_published_at = self.clock()
                survey.version += 1
                _invited, respondents = await counts_of(session, survey.id)
                add_event(
                    session, event_type=SURVEY_RESULTS_PUBLISHED, source=self._source,
                    subject=survey.id,
                    data=SurveyResultsPublished(
                        survey_id=survey.id, year=survey.year, title=survey.title,
                        published_at=survey.results_published_at, respondents=respondents,
                    ),
                )  # fmt: skip
            return await view_of(session, survey)

    async def apply_clock(self) -> tuple[int, int]:
        """Open drafts whose opens_at came and close surveys whose closes_at passed."""
        now = self.clock()
        async with self.sessions() as session:
            due_open = (
                await session.scalars(
                    select(col(Survey.id)).where(
                        col(Survey.state) == SurveyState.DRAFT.value,
                        col(Survey.opens_at) <= now,
                        col(Survey.closes_at) > now,
                    )
                )
            ).all()
            due_close = (
                await session.scalars(
                    select(col(Survey.id)).where(
                        col(Survey.state) == SurveyState.OPEN.value, col(Survey.closes_at) <= now
                    )
                )
            ).all()
        opened = closed = 0
        for survey_id in due_open:
            async with transaction(self.sessions) as session:
                await lock_audience(session)
                survey = await load_survey(session, survey_id, lock=True)
                if survey.state == SurveyState.DRAFT.value:  # nobody was quicker
                    await self._open_in(session, survey)
                    opened += 1
        for survey_id in due_close:
            async with transaction(self.sessions) as session:
                survey = await load_survey(session, survey_id, lock=True)
                if survey.state == SurveyState.OPEN.value:
                    await self._close_in(session, survey)
                    closed += 1
        return opened, closed


def _retitled(original: SurveyPublic, year: int) -> str:
    """Last year's title for this year: "Bündnisumfrage 2024" becomes "… 2026"."""
    return original.title.replace(str(original.year), str(year))
