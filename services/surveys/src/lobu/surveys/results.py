"""Results of a survey for admins, sliced by Land, field of action and award (replica)."""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.surveys.domain import aggregate
from lobu.surveys.models import AllianceReplica, Invitation, Response
from lobu.surveys.schemas import Results, ResultsFilter
from lobu.surveys.service import load_survey, questions_of


def _in_slice(state: str | None, topics: list[str] | None, awards: list[str] | None,
              filters: ResultsFilter) -> bool:  # fmt: skip
    if filters.state is None and filters.topic is None and filters.award is None:
        return True
    if state is None:
        return False  # an alliance the replica does not know belongs to no slice
    return (
        (filters.state is None or state == filters.state)
        and (filters.topic is None or filters.topic in (topics or []))
        and (filters.award is None or filters.award in (awards or []))
    )


class SurveyResults:
    """Aggregates submitted responses; small slices are suppressed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, threshold: int) -> None:
        self.sessions = sessions
        self.threshold = threshold

    async def of(self, survey_id: str, filters: ResultsFilter) -> Results:
        """The results of one slice (all invited alliances without filters)."""
        async with self.sessions() as session:
            survey = await load_survey(session, survey_id)
            # Columns, not ORM objects: building 1,000 entities cost more than the rest.
            # Topics and awards are JSON too: read (and decode) them only to filter by them.
            topics = col(AllianceReplica.topics) if filters.topic else literal(None)
            awards = col(AllianceReplica.awards) if filters.award else literal(None)
            statement = (
                select(col(AllianceReplica.state), topics, awards, col(Response.answers))
                .select_from(Invitation)
                .join(
                    AllianceReplica,
                    col(AllianceReplica.alliance_id) == col(Invitation.alliance_id),
                    isouter=True,
                )
                .join(Response, col(Response.invitation_id) == col(Invitation.id), isouter=True)
                .where(col(Invitation.survey_id) == survey_id)
            )
            if filters.state is not None:
                statement = statement.where(col(AllianceReplica.state) == filters.state)
            rows = (await session.execute(statement)).all()
        in_slice = [
            answers
            for state, topics, awards, answers in rows
            if _in_slice(state, topics, awards, filters)
        ]
        answer_sets = [answers for answers in in_slice if answers is not None]
        invited = len(in_slice)
        questions = aggregate(
            questions_of(survey), answer_sets, threshold=self.threshold, with_text=True
        )
        base = {
            "survey_id": survey.id, "year": survey.year, "filters": filters,
            "threshold": self.threshold, "invited": invited,
        }  # fmt: skip
        if questions is None:
            return Results(**base, suppressed=True)
        respondents = len(answer_sets)
        return Results(
            **base, suppressed=False, respondents=respondents,
            response_rate=round(respondents / invited, 4) if invited else None,
            questions=questions,
        )  # fmt: skip
