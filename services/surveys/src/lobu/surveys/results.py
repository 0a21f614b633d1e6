"""Results of a survey for admins, sliced by Land, field of action and award (replica)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.surveys.domain import aggregate
from lobu.surveys.models import AllianceReplica, Invitation, Response
from lobu.surveys.schemas import Results, ResultsFilter
from lobu.surveys.service import load_survey, questions_of


def _in_slice(replica: AllianceReplica | None, filters: ResultsFilter) -> bool:
    if filters.state is None and filters.topic is None and filters.award is None:
        return True
    if replica is None:
        return False  # an alliance the replica does not know belongs to no slice
    return (
        (filters.state is None or replica.state == filters.state)
        and (filters.topic is None or filters.topic in replica.topics)
        and (filters.award is None or filters.award in replica.awards)
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
            rows = (
                await session.execute(
                    select(Invitation, AllianceReplica, Response)
                    .join(
                        AllianceReplica,
                        col(AllianceReplica.alliance_id) == col(Invitation.alliance_id),
                        isouter=True,
                    )
                    .join(
                        Response,
                        col(Response.invitation_id) == col(Invitation.id),
                        isouter=True,
                    )
                    .where(col(Invitation.survey_id) == survey_id)
                )
            ).all()
        in_slice = [
            (replica, response) for _, replica, response in rows if _in_slice(replica, filters)
        ]
        answer_sets = [
            response.answers
            for _, response in in_slice
            if response is not None and response.answers is not None
        ]
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
