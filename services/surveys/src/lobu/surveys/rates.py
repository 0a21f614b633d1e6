"""Response rates by Land while a survey runs: one SQL aggregate over the invitations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from lobu.shared.contracts.vocabulary import STATES
from lobu.surveys.models import AllianceReplica, Invitation, Response
from lobu.surveys.results_schemas import ResponseRates, StateRate
from lobu.surveys.service import load_survey

UNKNOWN_STATE = "unbekannt"


def _rate(respondents: int, invited: int) -> float | None:
    return round(respondents / invited, 4) if invited else None


class ResponseRateView:
    """Invited and submitted alliances of a survey, in all and per Land."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def of(self, survey_id: str) -> ResponseRates:
        """The rates of one survey; Länder in the order of their names."""
        submitted = col(Response.submitted_at).is_not(None)
        async with self.sessions() as session:
            survey = await load_survey(session, survey_id)
            rows = (
                await session.execute(
                    select(
                        col(AllianceReplica.state),
                        func.count(col(Invitation.id)),
                        func.count(col(Response.invitation_id)).filter(submitted),
                    )
                    .select_from(Invitation)
                    .join(
                        AllianceReplica,
                        col(AllianceReplica.alliance_id) == col(Invitation.alliance_id),
                        isouter=True,
                    )
                    .join(Response, col(Response.invitation_id) == col(Invitation.id), isouter=True)
                    .where(col(Invitation.survey_id) == survey_id)
                    .group_by(col(AllianceReplica.state))
                )
            ).all()
        by_state = sorted(
            (
                StateRate(
                    state=state or UNKNOWN_STATE,
                    name=STATES.get(state or "", "Land unbekannt"),
                    invited=invited,
                    respondents=respondents,
                    response_rate=_rate(respondents, invited),
                )
                for state, invited, respondents in rows
            ),
            key=lambda rate: (rate.state == UNKNOWN_STATE, rate.name),
        )
        invited = sum(rate.invited for rate in by_state)
        respondents = sum(rate.respondents for rate in by_state)
        return ResponseRates(
            survey_id=survey.id, survey_state=survey.state, invited=invited,
            respondents=respondents, response_rate=_rate(respondents, invited), by_state=by_state,
        )  # fmt: skip
